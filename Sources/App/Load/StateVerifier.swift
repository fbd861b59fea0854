import Commerce
import Foundation
import Inventory
import Kafka
import Logging
import Orders
import Streams

/// Restores the inventory's and the order saga's state afresh from their changelogs, with their
/// groups' committed offsets, as a new owner of every partition would, and compares it with what the
/// published events say. The events can look right while the durable state is wrong (a zombie's late
/// changelog write, a restore that keeps an aborted record): the next restart would act on that state.
struct StateVerifier: Sendable {
    let bootstrapServers: String
    let logger: Logger

    /// What the events say, for the run's SKUs and its ended orders.
    struct Expected: Sendable {
        /// SKU → the latest InventoryUpdated's (available, reserved, sold).
        var stock: [String: [Int]]
        /// Order id → its terminal state (fulfilled, cancelled, failed).
        var orders: [String: String]
    }

    /// The mismatches, retried until none is left or `timeout` passes: the last batch's offsets may
    /// reach the group a little after its events are readable, and a restore honours only committed ones.
    func mismatches(_ expected: Expected, timeout: Duration = .seconds(30)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = try await compare(expected)
            if found.isEmpty || ContinuousClock.now >= deadline { return found }
            logger.info("restored state does not agree with the events yet; restoring again", metadata: ["mismatches": "\(found.count)"])
            try await Task.sleep(for: .seconds(2))
        }
    }

    private func compare(_ expected: Expected) async throws -> [String] {
        let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        let inventory = InventoryRole(), saga = OrderSagaRole()
        let stock = try await restore(InventoryState.self, changelog: inventory.changelogTopic, group: Self.groupID(inventory.name), admin)
        let orders = try await restore(OrderState.self, changelog: saga.changelogTopic, group: Self.groupID(saga.name), admin)
        return Self.stockMismatches(expected.stock, stock) + Self.orderMismatches(expected.orders, orders)
    }

    /// The group a role's workers commit under (`StreamConfiguration.groupID(role:)`).
    static func groupID(_ role: String) -> String { "souk-\(role)" }

    /// Every partition's state, by state key, as `ChangelogRestorer` rebuilds it for a new owner.
    private func restore<State: Codable & Sendable & Equatable>(
        _ type: State.Type, changelog: String, group: String, _ admin: KafkaAdminClient
    ) async throws -> [String: State] {
        guard let description = try await admin.describeTopic(changelog) else {
            throw SoukConfigurationError("changelog \(changelog) does not exist: did the role ever run?")
        }
        let committed = try await admin.committedOffsets(group)
        let restorer = ChangelogRestorer<State>(changelogTopic: changelog, bootstrapServers: bootstrapServers, logger: logger)
        let restored = try await restorer.restore(partitions: (0..<description.partitions).map { Int32($0) }, committed: committed)
        var states: [String: State] = [:]
        for entries in restored.values {
            for (key, stored) in entries { states[key] = stored.state }
        }
        return states
    }

    // MARK: - The pure comparisons

    static func stockMismatches(_ expected: [String: [Int]], _ restored: [String: InventoryState]) -> [String] {
        expected.keys.sorted().compactMap { sku in
            let events = expected[sku]!
            guard let level = restored[sku]?.stock else { return "state: \(sku) has no inventory state in the changelog" }
            let state = [level.available, level.reserved, level.sold]
            if state != events {
                return "state: \(sku) restored available/reserved/sold \(Self.triple(state)), the events say \(Self.triple(events))"
            }
            let held = level.reservations.values.reduce(0) { $0 + $1.quantity }
            if held != level.reserved { return "state: \(sku) restored reservations hold \(held), reserved is \(level.reserved)" }
            return nil
        }
    }

    static func orderMismatches(_ expected: [String: String], _ restored: [String: OrderState]) -> [String] {
        expected.keys.sorted().compactMap { order in
            if expected[order] == "refused" {
                // Refused before it started: the saga forgot it.
                return restored[order] == nil ? nil : "state: order \(order) was refused, yet the changelog still holds it"
            }
            guard let saga = restored[order]?.saga else { return "state: order \(order) has no saga state in the changelog" }
            let status = saga.status.rawValue
            return status == expected[order] ? nil : "state: order \(order) restored as \(status), the events ended it \(expected[order]!)"
        }
    }

    private static func triple(_ values: [Int]) -> String { values.map(String.init).joined(separator: "/") }
}
