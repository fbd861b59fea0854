import Contracts
import Foundation
import Inventory
import JSONCodec
import Kafka
import RoleSupport
import Streams
import Testing

@Suite struct InventoryRoleTests {
    let commands = "souk.inventory.commands.v1"
    let reservations = "souk.inventory.reservations.v1"
    let topics = InventoryRole.Topics()
    let replies = ReplyAddress(topic: "souk.order.saga-replies.v1", key: "o1")

    @Test(arguments: [
        ([UpdateInventory(sku: "A", mode: "set", quantity: 10)], 10, nil),
        ([UpdateInventory(sku: "A", mode: "set", quantity: 10), UpdateInventory(sku: "A", mode: "adjust", quantity: -4)], 6, nil),
        ([UpdateInventory(sku: "A", mode: "set", quantity: 3), UpdateInventory(sku: "A", mode: "adjust", quantity: -4)], 3, "adjusting 3 available by -4 would go below zero"),
        ([UpdateInventory(sku: "A", mode: "set", quantity: -1)], 0, "stock cannot be negative, got -1"),
    ] as [([UpdateInventory], Int, String?)])
    func setAndAdjust(commands updates: [UpdateInventory], available: Int, rejection: String?) async throws {
        var inventory = RoleHarness(InventoryRole(), internalTopics: [])
        var last: [KafkaProducerMessage] = []
        for update in updates { last = try await inventory.send(update, topic: commands) }
        if let rejection {
            #expect(try last[0].decoded(CommandRejected.self).reason == rejection)
        } else {
            #expect(try last[0].decoded(InventoryUpdated.self).available == available)
        }
        #expect(inventory.store.state(partition: 0, key: "A")?.stock.available ?? 0 == available)
    }

    func request(_ harness: inout RoleHarness<InventoryRole>, _ message: some InternalMessage) async throws -> [KafkaProducerMessage] {
        try await harness.send(
            topic: reservations, key: "A", type: type(of: message).type, value: try SoukJSON.encode(message), headers: replies.headers
        )
    }

    func answers(_ messages: [KafkaProducerMessage]) throws -> [StockAnswer] {
        try messages.filter { $0.topic == replies.topic }.map { try SoukJSON.decode(StockAnswer.self, from: $0.value ?? []) }
    }

    func level(_ harness: RoleHarness<InventoryRole>) -> [Int] {
        let stock = harness.store.state(partition: 0, key: "A")!.stock
        return [stock.available, stock.reserved, stock.sold]
    }

    @Test func reservationsAnswerTheSagaAndScheduleTheirExpiry() async throws {
        var inventory = RoleHarness(InventoryRole(reservationTTL: 60), internalTopics: [])
        _ = try await inventory.send(UpdateInventory(sku: "A", mode: "set", quantity: 5), topic: commands)

        let reserved = try await request(&inventory, ReserveStock(reservationId: "r1", orderId: "o1", sku: "A", quantity: 3))
        #expect(try answers(reserved).map(\.outcome) == [.reserved])
        // Scheduled on inventory's own timer topic, to be delivered on its own expiries topic: topics
        // that no other role's transactions write.
        let timer = try #require(reserved.first { $0.topic == topics.timers })
        let schedule = try SoukJSON.decode(TimerSchedule.self, from: timer.value ?? [])
        #expect(schedule.fireAt == inventory.now + 60 && schedule.topic == topics.expiries && schedule.type == ExpireReservation.type)
        #expect(level(inventory) == [2, 3, 0])

        let refused = try await request(&inventory, ReserveStock(reservationId: "r2", orderId: "o1", sku: "A", quantity: 3))
        #expect(try answers(refused).map(\.reason) == ["out of stock: 3 requested, 2 available"])

        _ = try await request(&inventory, ConfirmStock(reservationId: "r1", orderId: "o1", sku: "A", quantity: 3))
        #expect(level(inventory) == [2, 0, 3])
        let returned = try await request(&inventory, ReturnStock(reservationId: "r1", orderId: "o1", sku: "A", quantity: 3))
        #expect(try answers(returned).map(\.outcome) == [.returned])
        #expect(level(inventory) == [5, 0, 0])
        #expect(try returned.filter { $0.topic == "souk.inventory.events.v1" }.last?.decoded(InventoryUpdated.self).available == 5)
    }

    @Test func anExpiredReservationIsReleasedByItsTimerAndTheOrderIsTold() async throws {
        var inventory = RoleHarness(InventoryRole(reservationTTL: 60), internalTopics: [])
        _ = try await inventory.send(UpdateInventory(sku: "A", mode: "set", quantity: 5), topic: commands)
        _ = try await request(&inventory, ReserveStock(reservationId: "r1", orderId: "o1", sku: "A", quantity: 2))
        inventory.now += 30
        #expect(try await request(&inventory, ExpireReservation(reservationId: "r1", sku: "A")).isEmpty, "not due yet")
        inventory.now += 31
        let expired = try await inventory.send(
            topic: topics.expiries, key: "A", type: ExpireReservation.type, value: try SoukJSON.encode(ExpireReservation(reservationId: "r1", sku: "A"))
        )
        #expect(try answers(expired).map(\.outcome) == [.expired], "told at the address the reservation gave")
        #expect(level(inventory) == [5, 0, 0])
        // Payment came after all: the stock is sold directly while it is there.
        let confirmed = try await request(&inventory, ConfirmStock(reservationId: "r1", orderId: "o1", sku: "A", quantity: 2))
        #expect(try answers(confirmed).map(\.outcome) == [.confirmed])
        #expect(level(inventory) == [3, 0, 2])
    }

    func cancelledTimers(_ messages: [KafkaProducerMessage]) throws -> [String] {
        try messages.filter { $0.topic == topics.timers && $0.headers.string(CloudEventHeader.type) == TimerCancel.type }
            .map { try SoukJSON.decode(TimerCancel.self, from: $0.value ?? []).timerId }
    }

    @Test func aConfirmedReleasedOrOverdueReservationCancelsItsTimer() async throws {
        var inventory = RoleHarness(InventoryRole(reservationTTL: 60), internalTopics: [])
        _ = try await inventory.send(UpdateInventory(sku: "A", mode: "set", quantity: 9), topic: commands)
        for id in ["r1", "r2", "r3"] { _ = try await request(&inventory, ReserveStock(reservationId: id, orderId: "o1", sku: "A", quantity: 1)) }

        #expect(try cancelledTimers(try await request(&inventory, ConfirmStock(reservationId: "r1", orderId: "o1", sku: "A", quantity: 1))) == ["inventory:r1"])
        #expect(try cancelledTimers(try await request(&inventory, ReleaseStock(reservationId: "r2", orderId: "o1", sku: "A"))) == ["inventory:r2"])
        // r3 is overdue when another request comes first: it is expired there, and its timer goes too.
        inventory.now += 61
        #expect(try cancelledTimers(try await inventory.send(UpdateInventory(sku: "A", mode: "adjust", quantity: 1), topic: commands)) == ["inventory:r3"])
        // A sale without a reservation (it had expired) has no timer to cancel.
        #expect(try cancelledTimers(try await request(&inventory, ConfirmStock(reservationId: "r3", orderId: "o1", sku: "A", quantity: 1))) == [])
    }
}
