import Commerce
import Contracts
import Foundation
import RoleSupport
import Streams

/// Stock per SKU. Today it answers UpdateInventory (set or adjust); reservations for the order saga
/// build on the same `StockLevel`, which never oversells.
public struct InventoryRole: StreamRole {
    public let name: String
    public let topics: Topics

    public struct Topics: Sendable {
        public var commands = "souk.inventory.commands.v1"
        public var events = "souk.inventory.events.v1"
        public init() {}
    }

    public init(name: String = "inventory", topics: Topics = Topics()) {
        self.name = name
        self.topics = topics
    }

    public var inputTopics: [String] { [topics.commands] }

    public func decode(_ record: InboundRecord) throws -> UpdateInventory {
        guard let type = record.type else { throw PoisonMessage("missing ce_type header") }
        guard type == UpdateInventory.typeName else { throw PoisonMessage("the inventory role does not handle \(type)") }
        return try ContractCodec.decode(UpdateInventory.self, record.value ?? [])
    }

    public func handle(_ command: UpdateInventory, state: StockLevel?, context: HandlerContext) throws -> HandlerResult<StockLevel> {
        var stock = state ?? StockLevel()
        let outputs = ContextOutputs(eventsTopic: topics.events)
        do {
            if command.mode == "set" { try stock.set(available: command.quantity) } else { try stock.adjust(by: command.quantity) }
        } catch {
            return outputs.rejected(
                commandId: context.record.id, commandType: UpdateInventory.typeName, aggregateId: command.sku, reason: error.description,
                field: "/quantity"
            )
        }
        let event = InventoryUpdated(sku: command.sku, available: stock.available, reserved: stock.reserved, sold: stock.sold, updatedAt: context.now)
        return HandlerResult(state: .set(stock), outputs: [try outputs.event(event)])
    }
}
