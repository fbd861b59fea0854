import Contracts
import Foundation
import Kafka
import Streams
import Synchronization

/// What a load run has seen, shared by the sender and the listener.
final class LoadTracker: Sendable {
    private struct State {
        var sent: [String: ContinuousClock.Instant] = [:]
        var lines: [String: [OrderItem]] = [:]
        var seen: Set<String> = []
        /// Every event observed, copies included, in the order read: replayed without the records of
        /// aborted transactions once they are known (`excludeAborted`).
        var log: [Observed] = []
        var derived = Derived()
        var abortedLeftOut = 0
    }

    /// What the events say, built from the log one distinct event id at a time.
    private struct Derived {
        var applied: Set<String> = []
        var terminal: [String: [String]] = [:]  // order → terminal states, one per distinct event
        var latencies: [Double] = []
        var lastEnd: ContinuousClock.Instant?
        var captures: [String: Int] = [:]
        var captured: [String: Int] = [:]
        var refunded: [String: Int] = [:]
        var stock: [String: [Int]] = [:]
        /// Products the cart role priced (an item of it added to a probe cart).
        var priced: Set<String> = []
        /// Orders the saga accepted, and why the others were refused.
        var created: Set<String> = []
        var refusals: [String: Int] = [:]
        /// Where each SKU's latest InventoryUpdated was read (named in a violation).
        var stockAt: [String: String] = [:]
    }

    struct Observed: Sendable {
        var type: String
        var id: String
        var key: String
        var value: [UInt8]
        var partition: KafkaTopicPartition
        var offset: Int64
        var at: ContinuousClock.Instant
    }

    private let state = Mutex(State())
    let run: String

    init(run: String) { self.run = run }

    func placed(_ order: CreateOrder) {
        state.withLock {
            $0.sent[order.orderId] = .now
            $0.lines[order.orderId] = order.lines
        }
    }

    /// Whether this event id is new (a copy an aborted transaction leaked carries the same id).
    func firstSight(_ id: String) -> Bool { state.withLock { $0.seen.insert(id).inserted } }

    func observe(_ event: Observed) {
        state.withLock { state in
            state.log.append(event)
            Self.apply(event, to: &state.derived, sent: state.sent)
        }
    }

    /// The topic partitions the observed events came from.
    var partitions: Set<KafkaTopicPartition> { state.withLock { Set($0.log.map(\.partition)) } }

    /// Forgets the events of aborted transactions (the local broker delivers them; a re-run of the
    /// same input may have written its events under other ids) and rebuilds what the rest say.
    func excludeAborted(_ aborted: KafkaAbortedRecords) {
        state.withLock { state in
            let before = state.log.count
            state.log.removeAll { aborted.contains($0.partition, offset: $0.offset) }
            state.abortedLeftOut += before - state.log.count
            state.derived = Derived()
            for event in state.log { Self.apply(event, to: &state.derived, sent: state.sent) }
        }
    }

    private static func apply(_ event: Observed, to state: inout Derived, sent: [String: ContinuousClock.Instant]) {
        guard state.applied.insert(event.id).inserted else { return }
        func end(_ orderId: String, _ status: String) {
            state.terminal[orderId, default: []].append(status)
            guard state.terminal[orderId]!.count == 1, let sent = sent[orderId] else { return }
            let elapsed = event.at - sent
            state.latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            state.lastEnd = max(state.lastEnd ?? event.at, event.at)
        }
        let (key, value) = (event.key, event.value)
        switch event.type {
        case OrderCreated.typeName: state.created.insert(key)
        // Refused before it started (while it was priced): the rejection is the order's end. One that
        // answers a copy of a CreateOrder whose order exists is not.
        case CommandRejected.typeName:
            if let event = try? CommandRejected.decode(value), event.commandType == CreateOrder.typeName, !state.created.contains(key) {
                state.refusals[event.reason, default: 0] += 1
                end(key, "refused")
            }
        case OrderFulfilled.typeName: end(key, "fulfilled")
        case OrderCancelled.typeName: end(key, "cancelled")
        case OrderStatusUpdated.typeName:
            if let event = try? OrderStatusUpdated.decode(value), event.status == "failed" { end(key, "failed") }
        case PaymentProcessed.typeName:
            if let event = try? PaymentProcessed.decode(value), event.isCaptured {
                state.captures[event.paymentId, default: 0] += 1
                state.captured[event.paymentId, default: 0] += event.amount.amountMinor
            }
        case RefundCompleted.typeName:
            if let event = try? RefundCompleted.decode(value) { state.refunded[event.paymentId, default: 0] += event.amount.amountMinor }
        case ItemAdded.typeName:
            if let event = try? ItemAdded.decode(value) { state.priced.insert(event.productId) }
        case InventoryUpdated.typeName:
            if let decoded = try? InventoryUpdated.decode(value) {
                state.stock[decoded.sku] = [decoded.available, decoded.reserved, decoded.sold]
                state.stockAt[decoded.sku] = "\(event.partition)@\(event.offset)"
            }
        default:
            break
        }
    }

    func pricedSeen(_ productIds: [String]) -> Bool { state.withLock { state in productIds.allSatisfy { state.derived.priced.contains($0) } } }

    func stockSeen(_ skus: [String]) -> Bool { state.withLock { state in skus.allSatisfy { state.derived.stock[$0] != nil } } }

    var endedCount: Int { state.withLock { $0.derived.terminal.count } }
    var lastEnd: ContinuousClock.Instant? { state.withLock { $0.derived.lastEnd } }
    var latencies: [Double] { state.withLock { $0.derived.latencies } }
    var paymentCount: Int { state.withLock { $0.derived.captures.count } }

    /// SKU → the latest InventoryUpdated's (available, reserved, sold).
    var latestStock: [String: [Int]] { state.withLock { $0.derived.stock } }
    /// Order id → the first terminal state its events announced.
    var terminalStates: [String: String] { state.withLock { $0.derived.terminal.compactMapValues(\.first) } }

    /// Why orders were refused before they started, with how many.
    var refusals: [String: Int] { state.withLock { $0.derived.refusals } }

    var terminalCounts: [String: Int] {
        state.withLock { state in state.derived.terminal.values.reduce(into: [:]) { counts, statuses in counts[statuses[0], default: 0] += 1 } }
    }

    func orderViolations() -> [String] {
        state.withLock { state in
            state.derived.terminal.filter { $0.value.count > 1 }.map { "order \($0.key) ended \($0.value.count) times: \($0.value.joined(separator: ", "))" }.sorted()
        }
    }

    func paymentViolations() -> [String] {
        state.withLock { state in
            let state = state.derived
            return state.captures.filter { $0.value > 1 }.map { "payment \($0.key) captured \($0.value) times" }
                + state.refunded.compactMap { payment, refunded in
                    let captured = state.captured[payment, default: 0]
                    return refunded > captured ? "payment \(payment) refunded \(refunded) > captured \(captured)" : nil
                }
        }
    }

    /// Per SKU, against the latest InventoryUpdated: nothing lost or made up, nothing left reserved,
    /// and sold exactly what the fulfilled orders bought.
    func stockViolations(initial: [String: Int]) -> [String] {
        state.withLock { state in
            var sold: [String: Int] = [:]
            for (order, statuses) in state.derived.terminal where statuses.first == "fulfilled" {
                for line in state.lines[order] ?? [] { sold[line.sku, default: 0] += line.quantity }
            }
            return initial.keys.sorted().compactMap { sku in
                guard let level = state.derived.stock[sku] else { return "\(sku): no stock seen" }
                let total = level[0] + level[1] + level[2]
                if total != initial[sku] { return "\(sku): available+reserved+sold = \(total), initial \(initial[sku]!)" }
                if level[1] != 0 {
                    let source = state.derived.stockAt[sku] ?? "?"
                    return "\(sku): \(level[1]) still reserved (last InventoryUpdated \(source); \(state.abortedLeftOut) records of aborted transactions left out)"
                }
                if level[2] != sold[sku, default: 0] { return "\(sku): sold \(level[2]), fulfilled orders bought \(sold[sku, default: 0])" }
                return nil
            }
        }
    }
}
