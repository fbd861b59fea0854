import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Kafka
import Logging
import Streams
import Synchronization
import Testing
import TestSupport

@testable import API

/// Records what the API would write to Kafka, so that a test can say "exactly one record" or "none".
final class RecordingPublisher: CommandPublisher {
    let records = Mutex<[KafkaProducerMessage]>([])
    let failing = Mutex(false)

    func publish(_ record: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        if failing.withLock({ $0 }) { throw KafkaError(kind: .retriable, codeName: "_TRANSPORT", message: "broker down (test)") }
        let offset = records.withLock { records in
            records.append(record)
            return Int64(records.count - 1)
        }
        return KafkaDeliveryReport(topic: record.topic, partition: 0, offset: offset)
    }

    var all: [KafkaProducerMessage] { records.withLock { $0 } }
}

/// The API's router over the test stack's PostgreSQL and Redis, with Kafka writes recorded.
struct APITestRig {
    let stack: TestStack
    let router: APIRouter
    let publisher: RecordingPublisher
    let apiKey: String
    let jwtSecret: String
    let application: Application<RouterResponder<APIRequestContext>>

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    init(maxBodyBytes: Int = 4096, maxWaiters: Int = 8, maxWaitersPerCaller: Int = 8) async throws {
        stack = try TestStack.load()
        publisher = RecordingPublisher()
        apiKey = "test-key-" + UUID().uuidString
        jwtSecret = "jwt-secret-" + UUID().uuidString + UUID().uuidString
        let configuration = APIConfiguration(
            port: 0, maxBodyBytes: maxBodyBytes, apiKeys: [.init(name: "tests", secret: apiKey)], jwt: .init(hmacSecret: jwtSecret),
            maxOutcomeWaiters: maxWaiters, maxOutcomeWaitersPerCaller: maxWaitersPerCaller, databaseConnections: 2
        )
        let parts = try await APIService.assemble(
            configuration: configuration, bootstrapServers: stack.bootstrapServers, postgresURL: try stack.environment.require("POSTGRES_URL"),
            redisURL: stack.environment["REDIS_URL"], health: WorkerHealth(), metrics: { Array("souk_test 1\n".utf8) }, logger: stack.logger,
            publisher: publisher
        )
        router = parts.router
        application = Application(router: try router.build(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: stack.logger)
    }

    /// A signed end-user token for `customer`.
    func token(_ customer: String, expires: Date = Date().addingTimeInterval(600), secret: String? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret ?? jwtSecret), digestAlgorithm: .sha256)
        return try await keys.sign(CustomerClaims(sub: customer, expires: expires))
    }

    var system: HTTPFields { [Self.apiKeyHeader: apiKey, .contentType: "application/json"] }

    func customer(_ id: String) async throws -> HTTPFields {
        [.authorization: "Bearer \(try await token(id))", .contentType: "application/json"]
    }

    /// Runs `body` against the router, with the outcome watcher's loop running beside it.
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let outcomes = router.outcomes
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await outcomes.run() }
            try await application.test(.router) { client in try await body(client) }
            group.cancelAll()
        }
    }

    /// Runs `body` against the API on a real loopback socket, given its port: for bytes that only a
    /// socket carries (a chunked body, a header the test client would normalise).
    func testLive(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let outcomes = router.outcomes
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await outcomes.run() }
            try await application.test(.live) { client in try await body(try #require(client.port)) }
            group.cancelAll()
        }
    }
}

struct HTTPResult: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String

    var json: JSONValue? { try? JSONValue.parse(Array(body.utf8)) }
    var problemType: String? { json?["type"]?.stringValue.map { String($0.dropFirst(Problem.typeBase.count)) } }
}

extension TestClientProtocol {
    func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: String? = nil) async throws -> HTTPResult {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            HTTPResult(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }
}
