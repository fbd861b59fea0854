import Contracts
import Crypto
import Foundation
import JSONCodec
import Kafka
import Logging
import Streams
import Timestamps

/// Turns a write request into exactly one command record, or into a problem and nothing written.
///
/// Order of checks: credentials and access, media type, the body (JSON object, under the size limit),
/// path and body agreeing, the command's schema, then the `Idempotency-Key`. Only then is the record
/// written; the answer is 202 with the command id once the broker has acknowledged it.
public struct CommandIngestor: Sendable {
    let publisher: any CommandPublisher
    let idempotency: IdempotencyStore?
    let logger: Logger

    public init(publisher: any CommandPublisher, idempotency: IdempotencyStore?, logger: Logger) {
        self.publisher = publisher
        self.idempotency = idempotency
        self.logger = logger
    }

    /// A write request, as the router hands it over.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var pathParameters: [String: String]
        public var contentType: String?
        public var body: [UInt8]
        public var principal: Principal
        public var idempotencyKey: String?
        public var requestID: String
    }

    /// What the API answers with 202 (and stores for an idempotent replay).
    public struct Accepted: Codable, Sendable, Equatable {
        public var commandId: String
        public var type: String
        public var topic: String
        public var key: String
        public var partition: Int32
        public var offset: Int64
        public var status: String
        /// Where to follow the outcome.
        public var outcome: String
    }

    public struct Answer: Sendable {
        public var accepted: Accepted
        public var body: String
        public var replayed: Bool
    }

    public func accept(_ route: CommandRoute, access: APIOperation.Access, _ request: Request) async throws -> Answer {
        try access.authorize(request.principal, path: request.pathParameters)
        let requestHash = Self.requestHash(request)
        let commandID = try Self.commandID(principal: request.principal, idempotencyKey: request.idempotencyKey, requestHash: requestHash)
        let command = try Self.command(route, access: access, request, commandID: commandID)
        let record = Self.record(route, command: command, commandID: commandID, request)

        guard let key = request.idempotencyKey, let idempotency else {
            return try await write(record, route, commandID)
        }
        let actor = request.principal.actor
        switch try await idempotency.claim(principal: actor, key: key, requestHash: requestHash, commandID: commandID) {
        case .replay(let body):
            let accepted = try SoukJSON.decode(Accepted.self, from: body.utf8)
            return Answer(accepted: accepted, body: body, replayed: true)
        case .mismatch:
            throw Problem.conflict("idempotency-key-reused", "Idempotency-Key '\(key)' was already used for a different request")
        case .inFlight:
            throw Problem.conflict("idempotency-key-in-use", "a request with Idempotency-Key '\(key)' is being processed; retry shortly", retryAfter: 1)
        case .claimed:
            let answer: Answer
            do {
                answer = try await write(record, route, commandID)
            } catch {
                try? await idempotency.release(principal: actor, key: key)
                throw error
            }
            try await idempotency.complete(principal: actor, key: key, response: answer.body)
            return answer
        }
    }

    private func write(_ record: KafkaProducerMessage, _ route: CommandRoute, _ commandID: String) async throws -> Answer {
        let report: KafkaDeliveryReport
        do {
            report = try await publisher.publish(record)
        } catch {
            logger.warning("command not written", metadata: ["command.id": "\(commandID)", "kafka.topic": "\(route.topic)", "error": "\(error)"])
            throw Problem.unavailable("the command could not be written to the broker; nothing was accepted, retry")
        }
        let accepted = Accepted(
            commandId: commandID, type: route.message.typeName, topic: report.topic, key: String(decoding: record.key ?? [], as: UTF8.self),
            partition: report.partition, offset: report.offset, status: "accepted", outcome: "/api/commands/\(commandID)"
        )
        return Answer(accepted: accepted, body: try Self.json(accepted), replayed: false)
    }

    // MARK: - The pure steps

    /// With an `Idempotency-Key` the id derives from the caller, the key and the request, so that every
    /// instance names a retried request alike (and a key reused after it expired, for another request,
    /// names a new command); without one it is random.
    static func commandID(principal: Principal, idempotencyKey: String?, requestHash: String) throws(Problem) -> String {
        guard let key = idempotencyKey else { return "cmd-" + UUID().uuidString.lowercased() }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw .badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters", field: "Idempotency-Key")
        }
        return "cmd-" + hex(SHA256.hash(data: Array("\(principal.actor)\n\(key)\n\(requestHash)".utf8))).prefix(32)
    }

    static func requestHash(_ request: Request) -> String {
        hex(SHA256.hash(data: Array("\(request.method) \(request.path)\n".utf8) + request.body))
    }

    /// The command document: the body with the path's ids merged in, a generated id filled in, the
    /// caller's customer id checked or filled in, validated against the command's schema.
    static func command(_ route: CommandRoute, access: APIOperation.Access, _ request: Request, commandID: String) throws(Problem) -> JSONValue {
        var fields = try bodyObject(request)
        for (parameter, field) in route.pathFields.sorted(by: { $0.key < $1.key }) {
            guard let value = request.pathParameters[parameter] else { continue }
            if let given = fields[field], given != .string(value) {
                throw Problem(
                    "path-body-mismatch", status: .unprocessableContent, title: "The path and the body disagree",
                    detail: "the path names \(field) '\(value)', the body something else", field: "/\(field)"
                )
            }
            fields[field] = .string(value)
        }
        if case .bodyCustomer(let field) = access, case .customer(let id) = request.principal {
            if let given = fields[field], given != .string(id) { throw .forbidden("a customer may act only for itself (/\(field))") }
            fields[field] = .string(id)
        }
        if let generated = route.generatedID, fields[generated.field] == nil {
            fields[generated.field] = .string("\(generated.prefix)-\(commandID.dropFirst(4))")
        }
        let command = JSONValue.object(fields)
        let violations = route.message.schema.validate(command)
        guard violations.isEmpty else {
            throw .schemaViolations("invalid-command", title: "The command does not match its schema", route.message.typeName, violations)
        }
        return command
    }

    private static func bodyObject(_ request: Request) throws(Problem) -> [String: JSONValue] {
        if request.body.isEmpty && request.method == "DELETE" { return [:] }
        guard let contentType = request.contentType, isJSON(contentType) else { throw .unsupportedMediaType(request.contentType) }
        guard let value = try? JSONValue.parse(request.body) else { throw .invalidJSON("the body could not be parsed as JSON") }
        guard case .object(let fields) = value else { throw .invalidJSON("the body must be a JSON object") }
        return fields
    }

    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    static func record(_ route: CommandRoute, command: JSONValue, commandID: String, _ request: Request) -> KafkaProducerMessage {
        let key = command[route.keyField]?.stringValue ?? ""
        return KafkaProducerMessage(
            topic: route.topic,
            key: Array(key.utf8),
            value: (try? command.encoded()) ?? [],
            headers: [
                KafkaHeader(key: CloudEventHeader.id, string: commandID),
                KafkaHeader(key: CloudEventHeader.type, string: route.message.typeName),
                KafkaHeader(key: CloudEventHeader.source, string: "souk/api"),
                KafkaHeader(key: CloudEventHeader.specVersion, string: "1.0"),
                KafkaHeader(key: CloudEventHeader.time, string: Date().rfc3339),
                KafkaHeader(key: CloudEventHeader.contentType, string: "application/json"),
                KafkaHeader(key: SoukHeader.actor, string: request.principal.actor),
                KafkaHeader(key: SoukHeader.requestID, string: request.requestID),
            ]
        )
    }

    static func json(_ value: some Encodable) throws -> String {
        try SoukJSON.text(value)
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
