import Kafka
import Synchronization

/// Rebalance events reported inside `poll`, handed to the worker loop after it returns.
public final class RebalanceLog: Sendable {
    public init() {}

    private let events = Mutex<[KafkaRebalanceEvent]>([])

    public func append(_ event: KafkaRebalanceEvent) {
        events.withLock { $0.append(event) }
    }

    /// Whether a revocation of `partition` is waiting to be applied.
    public func revokes(_ partition: Int32) -> Bool {
        events.withLock { events in
            events.contains { event in
                guard case .revoked(let partitions, let cooperative) = event else { return false }
                return !cooperative || partitions.contains { $0.partition == partition }
            }
        }
    }

    public var isEmpty: Bool { events.withLock { $0.isEmpty } }

    public func drain() -> [KafkaRebalanceEvent] {
        events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }
}
