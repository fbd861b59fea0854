import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Streams

/// Builds the Hummingbird router from `APIRoutes.operations`.
public struct APIRouter: Sendable {
    public var ingestor: CommandIngestor
    public var backend: QueryBackend
    public var outcomes: OutcomeWatcher
    public var freshness: ReadModelFreshness?
    public var authenticator: Authenticator
    public var health: WorkerHealth
    /// The Prometheus text of this process's metrics.
    public var metrics: @Sendable () -> [UInt8]
    public var maxBodyBytes: Int
    public var maxOutcomeWait: Duration

    public init(
        ingestor: CommandIngestor, backend: QueryBackend, outcomes: OutcomeWatcher, freshness: ReadModelFreshness?, authenticator: Authenticator,
        health: WorkerHealth, metrics: @escaping @Sendable () -> [UInt8], maxBodyBytes: Int, maxOutcomeWait: Duration
    ) {
        self.ingestor = ingestor
        self.backend = backend
        self.outcomes = outcomes
        self.freshness = freshness
        self.authenticator = authenticator
        self.health = health
        self.metrics = metrics
        self.maxBodyBytes = maxBodyBytes
        self.maxOutcomeWait = maxOutcomeWait
    }

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    public func build() throws -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: APIMiddleware(authenticator: authenticator))
        let openAPI = try OpenAPIDocument.json()
        for operation in APIRoutes.operations {
            let method = HTTPRequest.Method(rawValue: operation.method.rawValue)!
            switch operation.action {
            case .command(let route):
                router.on(RouterPath(operation.path), method: method) { request, context in
                    try await self.command(route, operation, request, context)
                }
            case .query(let route):
                router.on(RouterPath(operation.path), method: method) { request, context in
                    try await self.query(route, operation, request, context)
                }
            case .builtin:
                router.on(RouterPath(operation.path), method: method) { request, context in
                    try await self.builtin(operation, request, context, openAPI: openAPI)
                }
            }
        }
        return router
    }

    // MARK: - Commands

    func command(_ route: CommandRoute, _ operation: APIOperation, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        let path = pathParameters(operation, context)
        try operation.access.authorize(context.principal, path: path)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes { throw Problem.tooLarge(limit: maxBodyBytes) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // A chunked body has no length to check first: collecting it stops at the limit
            // (`NIOTooManyBytesError`), which is the caller's 413 too.
            throw Problem.tooLarge(limit: maxBodyBytes)
        }
        let answer = try await ingestor.accept(
            route, access: operation.access,
            CommandIngestor.Request(
                method: operation.method.rawValue, path: request.uri.path, pathParameters: path, contentType: request.headers[.contentType],
                body: Array(body.readableBytesView), principal: context.principal, idempotencyKey: request.headers[Self.idempotencyKeyHeader],
                requestID: context.requestID
            )
        )
        var headers: HTTPFields = [.contentType: "application/json", .location: answer.accepted.outcome]
        if answer.replayed { headers[Self.replayedHeader] = "true" }
        return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    // MARK: - Queries

    func query(_ route: QueryRoute, _ operation: APIOperation, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        let path = pathParameters(operation, context)
        try operation.access.authorize(context.principal, path: path)
        let document = try Self.queryDocument(route, path: path, query: request.uri.queryParameters)
        let body = try await route.run(backend, document, context.principal)
        var headers: HTTPFields = [.contentType: "application/json"]
        for (name, value) in freshness?.headers(for: route.sources) ?? [] { headers[HTTPField.Name(name)!] = value }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The query message as JSON: path parameters, and query parameters typed by the query's schema.
    static func queryDocument(_ route: QueryRoute, path: [String: String], query: Parameters) throws(Problem) -> [UInt8] {
        var fields: [String: JSONValue] = [:]
        for (parameter, field) in route.pathFields { fields[field] = path[parameter].map(JSONValue.string) }
        for property in route.queryParameters {
            guard let text = query.get(property.name) else { continue }
            switch property.schema.base {
            case .integer:
                guard let number = Int64(text) else { throw .badRequest("query parameter \(property.name) must be an integer", field: property.name) }
                fields[property.name] = .integer(number)
            case .boolean:
                guard let flag = Bool(text) else { throw .badRequest("query parameter \(property.name) must be true or false", field: property.name) }
                fields[property.name] = .bool(flag)
            default:
                fields[property.name] = .string(text)
            }
        }
        let document = JSONValue.object(fields)
        let violations = route.message.schema.validate(document)
        guard violations.isEmpty else {
            throw Problem.schemaViolations("invalid-query", title: "The query's parameters do not match its schema", route.message.typeName, violations)
        }
        return (try? document.encoded()) ?? []
    }

    // MARK: - The API's own routes

    func builtin(_ operation: APIOperation, _ request: Request, _ context: APIRequestContext, openAPI: [UInt8]) async throws -> Response {
        switch operation.operationID {
        case "getCommandOutcome":
            return try await outcome(request, context)
        case "getOpenAPI":
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
        case "live":
            return HealthEndpoints.live(health)
        case "ready":
            return HealthEndpoints.ready(health)
        default:
            return HealthEndpoints.metrics(metrics())
        }
    }

    func outcome(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try APIOperation.Access.authenticated.authorize(context.principal, path: [:])
        let id = context.parameters.get("id") ?? ""
        guard Schema.id().validate(.string(id)).isEmpty else { throw Problem.badRequest("not a command id: \(id)", field: "id") }
        let wait = try Self.waitDuration(request.uri.queryParameters.get("wait"), max: maxOutcomeWait)
        let outcome = try await outcomes.outcome(of: id, waitingUpTo: wait, caller: context.principal.description)
        var headers: HTTPFields = [.contentType: "application/json"]
        let body: String
        if let outcome {
            body = try CommandIngestor.json(outcome)
        } else {
            headers[.retryAfter] = "1"
            body = try CommandIngestor.json(["commandId": id, "status": "pending"])
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// `5s`, `500ms` or a plain number of seconds, at most `max`.
    static func waitDuration(_ text: String?, max: Duration) throws(Problem) -> Duration {
        guard let text, !text.isEmpty else { return .zero }
        let duration: Duration?
        if text.hasSuffix("ms"), let value = Int(text.dropLast(2)) {
            duration = .milliseconds(value)
        } else if let value = Double(text.hasSuffix("s") ? String(text.dropLast()) : text), value.isFinite, value >= 0,
            value <= Double(max.components.seconds)
        {
            duration = .milliseconds(Int(value * 1000))
        } else {
            duration = nil
        }
        guard let duration, duration >= .zero, duration <= max else {
            throw .badRequest("wait must be a duration like 5s or 500ms, at most \(max.components.seconds)s", field: "wait")
        }
        return duration
    }

    func pathParameters(_ operation: APIOperation, _ context: APIRequestContext) -> [String: String] {
        Dictionary(uniqueKeysWithValues: operation.pathParameters.map { ($0, context.parameters.get($0) ?? "") })
    }
}

extension Schema {
    /// The schema behind a named definition.
    var base: Schema {
        if case .reference(_, let schema) = self { return schema.base }
        return self
    }
}
