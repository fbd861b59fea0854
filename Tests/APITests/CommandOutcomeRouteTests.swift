import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Projections
import Testing
import TestSupport

@testable import API

/// `GET /api/commands/:id`: pending, applied, rejected with its reason, waiting with a bound.
@Suite(.serialized) struct CommandOutcomeRouteTests {
    func reject(_ commandID: String, _ stack: TestStack) async throws {
        let database = try await PostgresConnection.connect(try stack.environment.require("POSTGRES_URL"))
        let rejection = CommandRejected(commandId: commandID, commandType: CreateCart.typeName, aggregateId: "cart-x", reason: "cart cart-x already exists", field: "/cartId")
        let event = ProjectedEvent(
            id: "\(commandID)-rejected", type: CommandRejected.typeName, topic: "souk.cart.events.v1", partition: 0, offset: 0, key: "cart-x",
            correlationID: commandID, causationID: commandID, occurredAt: Date(), payload: try rejection.encoded()
        )
        _ = try await database.transaction { session in try EventProjection.apply(event, in: session) }
    }

    @Test func outcomesArePendingUntilTheProjectionHasThem() async throws {
        let rig = try await APITestRig()
        let stack = rig.stack
        try await rig.test { client in
            let accepted = try await client.send(.post, "/api/carts", headers: rig.system, body: #"{"customerId":"cust-1","currency":"VND"}"#)
            let id = try #require(accepted.json?["commandId"]?.stringValue)
            let pending = try await client.send(.get, "/api/commands/\(id)", headers: rig.system)
            #expect(pending.json?["status"]?.stringValue == "pending" && pending.headers[.retryAfter] == "1")
            #expect(try await client.send(.get, "/api/commands/\(id)").status == .unauthorized)
            // A waiter is answered as soon as the outcome lands.
            async let waited = client.send(.get, "/api/commands/\(id)?wait=20s", headers: rig.system)
            try await eventually("the waiter is registered") { rig.router.outcomes.waiting == 1 }
            try await reject(id, stack)
            let outcome = try await waited
            #expect(outcome.json?["status"]?.stringValue == "rejected")
            #expect(outcome.json?["reason"]?.stringValue == "cart cart-x already exists")
            #expect(outcome.json?["field"]?.stringValue == "/cartId")
            #expect(try await client.send(.get, "/api/commands/\(id)?wait=abc", headers: rig.system).status == .badRequest)
            #expect(try await client.send(.get, "/api/commands/\(id)?wait=999s", headers: rig.system).status == .badRequest)
        }
    }

    @Test func waitersAreBounded() async throws {
        let rig = try await APITestRig(maxWaiters: 2)
        try await rig.test { client in
            async let first = client.send(.get, "/api/commands/cmd-none-1?wait=10s", headers: rig.system)
            async let second = client.send(.get, "/api/commands/cmd-none-2?wait=10s", headers: rig.system)
            try await eventually("two requests wait") { rig.router.outcomes.waiting == 2 }
            let third = try await client.send(.get, "/api/commands/cmd-none-3?wait=10s", headers: rig.system)
            #expect(third.status == .serviceUnavailable && third.headers[.retryAfter] != nil)
            // Without ?wait nobody queues: the answer is immediate.
            #expect(try await client.send(.get, "/api/commands/cmd-none-3", headers: rig.system).json?["status"]?.stringValue == "pending")
            let answers = try await [first, second]
            #expect(answers.allSatisfy { $0.json?["status"]?.stringValue == "pending" })
        }
    }

    @Test func oneCallerCannotTakeEveryWaiter() async throws {
        let rig = try await APITestRig(maxWaiters: 8, maxWaitersPerCaller: 1)
        try await rig.test { client in
            async let first = client.send(.get, "/api/commands/cmd-none-1?wait=10s", headers: rig.system)
            try await eventually("one request waits") { rig.router.outcomes.waiting == 1 }
            let second = try await client.send(.get, "/api/commands/cmd-none-2?wait=10s", headers: rig.system)
            #expect(second.status == .tooManyRequests && second.headers[.retryAfter] == "1")
            // Another caller still gets a waiter of its own.
            async let other = client.send(.get, "/api/commands/cmd-none-3?wait=1s", headers: try await rig.customer("cust-waits"))
            try await eventually("the other caller waits too") { rig.router.outcomes.waiting == 2 }
            #expect(try await other.json?["status"]?.stringValue == "pending")
            #expect(try await first.json?["status"]?.stringValue == "pending")
        }
    }
}
