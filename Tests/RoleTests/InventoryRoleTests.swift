import Contracts
import Inventory
import Kafka
import Streams
import Testing

@Suite struct InventoryRoleTests {
    let commands = "souk.inventory.commands.v1"

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
        #expect(inventory.store.state(partition: 0, key: "A")?.available ?? 0 == available)
    }
}
