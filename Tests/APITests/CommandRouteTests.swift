import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Streams
import Testing

@testable import API

/// Every write route of the API, table-driven from the operation table: a valid request writes exactly
/// one command record (topic, key, CloudEvents headers, the caller as actor); an unauthenticated,
/// forbidden or invalid one writes nothing; an idempotent replay writes nothing new.
@Suite(.serialized) struct CommandRouteTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var operation: APIOperation
        var route: CommandRoute
        var testDescription: String { "\(operation.method.rawValue) \(operation.path)" }

        /// The path with the example command's ids in it, and the example's remaining fields as the body.
        var request: (path: String, body: [String: JSONValue]) {
            guard case .object(var fields) = try! JSONValue.parse(try! route.message.example.encoded()) else { fatalError("examples are objects") }
            var path = operation.path
            for (parameter, field) in route.pathFields {
                path = path.replacingOccurrences(of: ":\(parameter)", with: fields[field]!.stringValue!)
                fields[field] = nil
            }
            return (path, fields)
        }

        var bodyText: String { String(decoding: try! JSONValue.object(request.body).encoded(), as: UTF8.self) }
    }

    static let cases: [Case] = APIRoutes.operations.compactMap { operation in
        if case .command(let route) = operation.action { return Case(operation: operation, route: route) }
        return nil
    }

    @Test(arguments: cases) func aValidRequestWritesExactlyOneCommand(_ test: Case) async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            let result = try await client.send(test.operation.method.http, test.request.path, headers: rig.system, body: test.bodyText)
            #expect(result.status == .accepted, "\(result.body)")
            let records = rig.publisher.all
            try #require(records.count == 1)
            let record = records[0]
            #expect(record.topic == test.route.topic)
            let commandID = try #require(result.json?["commandId"]?.stringValue)
            #expect(result.headers[.location] == "/api/commands/\(commandID)")
            #expect(record.headers.string(CloudEventHeader.id) == commandID)
            #expect(record.headers.string(CloudEventHeader.type) == test.route.message.typeName)
            #expect(record.headers.string(CloudEventHeader.specVersion) == "1.0")
            #expect(record.headers.string(SoukHeader.actor) == "system:tests")
            // The record is the command itself, valid against its schema, keyed by its aggregate.
            let value = try JSONValue.parse(record.value ?? [])
            #expect(test.route.message.schema.validate(value).isEmpty)
            #expect(String(decoding: record.key ?? [], as: UTF8.self) == value[test.route.keyField]?.stringValue)
            #expect(result.json?["key"]?.stringValue == value[test.route.keyField]?.stringValue)
        }
    }

    @Test(arguments: cases) func withoutCredentialsNothingIsWritten(_ test: Case) async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            let result = try await client.send(test.operation.method.http, test.request.path, headers: [.contentType: "application/json"], body: test.bodyText)
            #expect(result.status == .unauthorized)
            #expect(result.problemType == "unauthorized")
            #expect(result.headers[.contentType] == "application/problem+json")
            let wrongKey = try await client.send(
                test.operation.method.http, test.request.path, headers: [APITestRig.apiKeyHeader: "not-a-key", .contentType: "application/json"],
                body: test.bodyText
            )
            #expect(wrongKey.status == .unauthorized)
            #expect(rig.publisher.all.isEmpty)
        }
    }

    @Test(arguments: cases) func anInvalidCommandIsRefusedWithItsField(_ test: Case) async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            var body = test.request.body
            body["surprise"] = .string("field")
            let result = try await client.send(test.operation.method.http, test.request.path, headers: rig.system, body: String(decoding: try JSONValue.object(body).encoded(), as: UTF8.self))
            #expect(result.status == .unprocessableContent)
            #expect(result.problemType == "invalid-command")
            #expect(result.json?["field"]?.stringValue == "/surprise")
            #expect(rig.publisher.all.isEmpty)
        }
    }

    @Test(arguments: cases) func anIdempotentReplayWritesNothingNew(_ test: Case) async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            var headers = rig.system
            headers[APITestRig.idempotencyKey] = "key-\(UUID().uuidString)"
            let first = try await client.send(test.operation.method.http, test.request.path, headers: headers, body: test.bodyText)
            let again = try await client.send(test.operation.method.http, test.request.path, headers: headers, body: test.bodyText)
            #expect(first.status == .accepted && again.status == .accepted)
            #expect(again.body == first.body)
            #expect(again.headers[APIRouter.replayedHeader] == "true")
            #expect(rig.publisher.all.count == 1)
            // A different request under the same key (bodies are compared byte for byte).
            let different = try await client.send(test.operation.method.http, test.request.path, headers: headers, body: " " + test.bodyText)
            #expect(different.status == .conflict)
            #expect(different.problemType == "idempotency-key-reused")
            #expect(rig.publisher.all.count == 1)
        }
    }
}

extension APIOperation.Method {
    var http: HTTPRequest.Method { HTTPRequest.Method(rawValue: rawValue)! }
}
