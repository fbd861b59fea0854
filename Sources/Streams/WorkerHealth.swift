import Synchronization

/// Liveness and readiness of the workers of one process, for `/health/live` and `/health/ready`.
public final class WorkerHealth: Sendable {
    private struct Worker {
        var lastProgress: ContinuousClock.Instant
        var ready: Bool
        var stallThreshold: Duration
        var stopped: Bool
    }

    private let workers = Mutex<[String: Worker]>([:])

    public init() {}

    public func register(_ name: String, stallThreshold: Duration) {
        workers.withLock { $0[name] = Worker(lastProgress: .now, ready: false, stallThreshold: stallThreshold, stopped: false) }
    }

    /// A poll returned or a batch was committed.
    public func progressed(_ name: String) {
        workers.withLock { $0[name]?.lastProgress = .now }
    }

    public func markReady(_ name: String) {
        workers.withLock { $0[name]?.ready = true }
    }

    public func markStopped(_ name: String) {
        workers.withLock { $0[name]?.stopped = true }
    }

    /// Workers that stopped or made no progress within their threshold (empty: live).
    public func stalledWorkers(now: ContinuousClock.Instant = .now) -> [String] {
        workers.withLock { workers in
            workers.filter { $0.value.stopped || now - $0.value.lastProgress > $0.value.stallThreshold }.keys.sorted()
        }
    }

    /// Workers that have not restored their state yet (empty: ready).
    public func unreadyWorkers() -> [String] {
        workers.withLock { workers in workers.filter { !$0.value.ready }.keys.sorted() }
    }

    public var isLive: Bool { stalledWorkers().isEmpty }
    public var isReady: Bool { !workers.withLock { $0.isEmpty } && unreadyWorkers().isEmpty }
}
