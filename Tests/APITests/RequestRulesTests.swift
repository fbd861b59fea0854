import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Streams
import Synchronization
import Testing
import TestSupport

@testable import API

/// The rules around commands: media type, size, JSON, path and body, end users' tokens, broker failures.
@Suite(.serialized) struct RequestRulesTests {
    let order = #"{"customerId":"cust-1","lines":[{"productId":"p","sku":"S","quantity":1,"unitPrice":{"amountMinor":1000,"currency":"VND"}}],"shippingAddress":{"addressId":"home","recipient":"A","line1":"1 St","city":"Hanoi","postalCode":"100000","country":"VN"},"paymentToken":"tok_visa"}"#

    @Test func badInputGetsAProblemAndWritesNothing() async throws {
        let rig = try await APITestRig(maxBodyBytes: 1024)
        try await rig.test { client in
            var headers = rig.system
            headers[.contentType] = "text/plain"
            let media = try await client.send(.post, "/api/orders", headers: headers, body: order)
            #expect(media.status == .unsupportedMediaType && media.problemType == "unsupported-media-type")
            let broken = try await client.send(.post, "/api/orders", headers: rig.system, body: "{\"customerId\":")
            #expect(broken.status == .badRequest && broken.problemType == "invalid-json")
            let array = try await client.send(.post, "/api/orders", headers: rig.system, body: "[1,2]")
            #expect(array.status == .badRequest)
            let large = try await client.send(.post, "/api/orders", headers: rig.system, body: "{\"x\":\"" + String(repeating: "a", count: 2000) + "\"}")
            #expect(large.status == .contentTooLarge && large.problemType == "body-too-large")
            let float = try await client.send(.post, "/api/orders", headers: rig.system, body: order.replacingOccurrences(of: "1000", with: "10.5"))
            #expect(float.status == .unprocessableContent && float.json?["field"]?.stringValue == "/lines/0/unitPrice/amountMinor")
            let mismatch = try await client.send(.put, "/api/products/p1", headers: rig.system, body: #"{"productId":"p2","name":"x"}"#)
            #expect(mismatch.status == .unprocessableContent && mismatch.problemType == "path-body-mismatch")
            let noRoute = try await client.send(.get, "/api/nothing-here", headers: rig.system)
            #expect(noRoute.status == .notFound && noRoute.problemType == "no-route")
            #expect(rig.publisher.all.isEmpty)
        }
    }

    /// A chunked body has no length to refuse up front; on a live socket it was a 500 (issue 15).
    @Test func aChunkedBodyOverTheLimitIsA413AndOneWithinItIsAccepted() async throws {
        let rig = try await APITestRig(maxBodyBytes: 1024)
        @Sendable func chunked(_ body: String, chunk: Int) -> [UInt8] {
            var bytes = Array(
                "POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: \(rig.apiKey)\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8
            )
            var rest = Array(body.utf8)[...]
            while !rest.isEmpty {
                let part = rest.prefix(chunk)
                rest = rest.dropFirst(chunk)
                bytes += Array("\(String(part.count, radix: 16))\r\n".utf8) + part + Array("\r\n".utf8)
            }
            return bytes + Array("0\r\n\r\n".utf8)
        }
        try await rig.testLive { port in
            let large = try await rawHTTPExchange(port: port, chunked("{\"x\":\"" + String(repeating: "a", count: 3000) + "\"}", chunk: 700))
            #expect(large.hasPrefix("HTTP/1.1 413"), "\(large)")
            #expect(large.contains("body-too-large"), "\(large)")
            #expect(rig.publisher.all.isEmpty)
            let small = try await rawHTTPExchange(port: port, chunked(order, chunk: 100))
            #expect(small.hasPrefix("HTTP/1.1 202"), "\(small)")
            #expect(rig.publisher.all.count == 1)
        }
    }

    @Test func theRequestIDIsKeptOrMadeAndTravelsWithTheCommand() async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            var headers = rig.system
            headers[APIMiddleware.requestIDHeader] = "req-42"
            let kept = try await client.send(.delete, "/api/products/p1", headers: headers)
            #expect(kept.status == .accepted && kept.headers[APIMiddleware.requestIDHeader] == "req-42")
            #expect(rig.publisher.all.first?.headers.string(SoukHeader.requestID) == "req-42")
            let made = try await client.send(.get, "/api/nothing", headers: [:])
            #expect((made.headers[APIMiddleware.requestIDHeader]?.count ?? 0) == 36)
        }
    }

    @Test func endUsersActOnlyForThemselves() async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            let me = try await rig.customer("cust-1")
            // A customer's order names itself; left out, the API fills it in.
            let own = try await client.send(.post, "/api/orders", headers: me, body: order)
            #expect(own.status == .accepted, "\(own.body)")
            let implied = try await client.send(.post, "/api/orders", headers: me, body: order.replacingOccurrences(of: #""customerId":"cust-1","#, with: ""))
            #expect(implied.status == .accepted, "\(implied.body)")
            let records = rig.publisher.all
            #expect(records.count == 2)
            #expect(records.allSatisfy { (try? JSONValue.parse($0.value ?? []))?["customerId"] == .string("cust-1") })
            #expect(records.allSatisfy { $0.headers.string(SoukHeader.actor) == "customer:cust-1" })

            let other = try await rig.customer("cust-2")
            #expect(try await client.send(.post, "/api/orders", headers: other, body: order).status == .forbidden)
            #expect(try await client.send(.put, "/api/customers/cust-1", headers: other, body: #"{"name":"Mallory"}"#).status == .forbidden)
            #expect(try await client.send(.post, "/api/products", headers: me, body: "{}").status == .forbidden)
            #expect(try await client.send(.put, "/api/orders/o1/status", headers: me, body: #"{"status":"cancelled"}"#).status == .forbidden)
            // On carts and orders by id the role checks ownership: the command carries who sent it.
            #expect(try await client.send(.delete, "/api/orders/o-of-someone", headers: other).status == .accepted)
            #expect(rig.publisher.all.last?.headers.string(SoukHeader.actor) == "customer:cust-2")

            var expired = me
            expired[.authorization] = "Bearer \(try await rig.token("cust-1", expires: Date().addingTimeInterval(-60)))"
            let late = try await client.send(.post, "/api/orders", headers: expired, body: order)
            #expect(late.status == .unauthorized && late.json?["detail"]?.stringValue?.contains("expired") == true)
            var forged = me
            forged[.authorization] = "Bearer \(try await rig.token("cust-1", secret: String(repeating: "f", count: 40)))"
            #expect(try await client.send(.post, "/api/orders", headers: forged, body: order).status == .unauthorized)
            #expect(rig.publisher.all.count == 3)
        }
    }

    @Test func aBrokerFailureIsA503AndTheKeyCanBeRetried() async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            var headers = rig.system
            headers[APITestRig.idempotencyKey] = "retry-\(UUID().uuidString)"
            rig.publisher.failing.withLock { $0 = true }
            let failed = try await client.send(.post, "/api/orders", headers: headers, body: order)
            #expect(failed.status == .serviceUnavailable && failed.headers[.retryAfter] == "1")
            rig.publisher.failing.withLock { $0 = false }
            let retried = try await client.send(.post, "/api/orders", headers: headers, body: order)
            #expect(retried.status == .accepted)
            #expect(rig.publisher.all.count == 1)
        }
    }

    @Test func anIdempotencyKeyHoldsAcrossInstances() async throws {
        // Two API instances over the same PostgreSQL: the second replays what the first accepted.
        let first = try await APITestRig()
        let second = try await APITestRig()
        let key = "shared-\(UUID().uuidString)"
        let answer = LockedBox<String>()
        try await first.test { client in
            var headers = first.system
            headers[APIMiddleware.requestIDHeader] = "a"
            headers[APITestRig.apiKeyHeader] = first.apiKey
            headers[APITestRig.idempotencyKey] = key
            answer.value = try await client.send(.post, "/api/orders", headers: headers, body: order).body
        }
        // The key belongs to the caller, and both instances know the caller as "tests".
        try await second.test { client in
            var headers = second.system
            headers[APITestRig.idempotencyKey] = key
            let replay = try await client.send(.post, "/api/orders", headers: headers, body: order)
            #expect(replay.status == .accepted && replay.body == answer.value)
            #expect(second.publisher.all.isEmpty)
        }
        #expect(first.publisher.all.count == 1)
    }
}

/// A value a `@Sendable` test closure hands back.
final class LockedBox<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)
    var value: Value? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
