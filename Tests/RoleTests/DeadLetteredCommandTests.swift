import Carts
import Catalog
import Contracts
import Customers
import Foundation
import Inventory
import Kafka
import Orders
import Payments
import RoleSupport
import Shipping
import Streams
import Testing

/// A command that ends in a dead letter is answered too: its caller sees a rejection, not "pending"
/// forever (issue 15).
@Suite struct DeadLetteredCommandTests {
    /// Sends a record no role can decode on `role`'s commands topic and returns what it emitted.
    func poison<Role: ContextRole>(_ role: Role, id: String, value: [UInt8] = Array(#"{"x":1}"#.utf8)) async throws -> [KafkaProducerMessage] {
        var harness = RoleHarness(role, internalTopics: [])
        return try await harness.send(topic: role.commandsTopic, key: "agg-1", type: "souk.test.Unknown.v1", value: value, id: id)
    }

    func check<Role: ContextRole>(_ role: Role) async throws {
        let outputs = try await poison(role, id: "cmd-dead-\(role.name)")
        #expect(outputs.filter { $0.topic == role.deadLetterTopic }.count == 1, "\(role.name)")
        let answers = outputs.filter { $0.topic == role.eventsTopic }
        #expect(answers.map(\.type) == [CommandRejected.typeName], "\(role.name)")
        let rejection = try #require(answers.first).decoded(CommandRejected.self)
        #expect(rejection.commandId == "cmd-dead-\(role.name)")
        #expect(rejection.commandType == "souk.test.Unknown.v1")
        #expect(rejection.aggregateId == "agg-1")
        #expect(rejection.reason.hasPrefix("the command went to \(role.deadLetterTopic) and changed nothing: "))
        #expect(CommandRejected.schema.validate(json: try #require(answers.first?.value)).isEmpty)
    }

    @Test func everyContextRejectsTheCommandsItDeadLetters() async throws {
        try await check(CartRole(coupons: []))
        try await check(CatalogRole())
        try await check(CustomerRole())
        try await check(InventoryRole())
        try await check(OrderSagaRole())
        try await check(PaymentRole(provider: try SandboxPaymentProvider()))
        try await check(ShippingRole())
    }

    @Test func aRecordOfAnotherTopicIsDeadLetteredWithoutAnAnswer() async throws {
        let role = CartRole(coupons: [])
        var harness = RoleHarness(role, internalTopics: [])
        let outputs = try await harness.send(topic: role.topics.productEvents, key: "p1", type: ProductCreated.typeName, value: Array("{}".utf8))
        #expect(outputs.map(\.topic) == [role.deadLetterTopic])
    }

    @Test func anIdNoCallerCouldHoldGetsNoAnswer() async throws {
        let outputs = try await poison(CatalogRole(), id: "not an id\u{0}")
        #expect(outputs.map(\.topic) == [CatalogRole().deadLetterTopic])
    }

    @Test func theReasonCarriesNoControlCharacters() throws {
        let outputs = ContextOutputs(eventsTopic: "souk.shipping.events.v1")
        let record = InboundRecord(
            topic: "souk.shipping.commands.v1", partition: 0, offset: 7, key: "s-1", value: [],
            headers: [KafkaHeader(key: CloudEventHeader.id, string: "cmd-ctl")], timestamp: .now
        )
        let answers = outputs.deadLetterRejection(
            of: record, commandsTopic: "souk.shipping.commands.v1", deadLetterTopic: "souk.shipping.dlq.v1", reason: "bad\u{0}value\nlevel=critical"
        )
        let rejection = try CommandRejected.decode(try #require(answers.first).value)
        #expect(rejection.reason == "the command went to souk.shipping.dlq.v1 and changed nothing: bad value level=critical")
        #expect(rejection.commandType == "unknown")
    }
}
