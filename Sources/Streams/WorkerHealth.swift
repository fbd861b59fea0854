import Synchronization

/// Liveness and readiness of the workers of one process, for `/health/live` and `/health/ready`.
///
/// Liveness follows progress, not mere activity: a worker is live while it commits, advances its
/// processed position, restores, or has nothing to do. One that keeps aborting, or has input waiting
/// and neither commits nor advances for its stall threshold, is not live; `souk run` exits then so that
/// its supervisor restarts it.
public final class WorkerHealth: Sendable {
    private struct Worker {
        var lastProgress: ContinuousClock.Instant
        var ready: Bool
        var stallThreshold: Duration
        var stopped: Bool
        var consecutiveAborts = 0
        var maxConsecutiveAborts: Int
        /// Partitions with input waiting and no commit for longer than the threshold.
        var stuckPartitions: [Int32] = []
    }

    private let workers = Mutex<[String: Worker]>([:])

    public init() {}

    public func register(_ name: String, stallThreshold: Duration, maxConsecutiveAborts: Int = 20) {
        workers.withLock {
            $0[name] = Worker(lastProgress: .now, ready: false, stallThreshold: stallThreshold, stopped: false, maxConsecutiveAborts: maxConsecutiveAborts)
        }
    }

    /// The worker committed, advanced its position, restored, or found nothing to do.
    public func progressed(_ name: String) {
        workers.withLock { $0[name]?.lastProgress = .now }
    }

    /// A batch committed: progress, and the run of aborts ends.
    public func committed(_ name: String) {
        workers.withLock {
            $0[name]?.lastProgress = .now
            $0[name]?.consecutiveAborts = 0
        }
    }

    /// A batch was aborted (or its outcome was unknown).
    public func aborted(_ name: String) {
        workers.withLock { $0[name]?.consecutiveAborts += 1 }
    }

    public func markReady(_ name: String) {
        workers.withLock { $0[name]?.ready = true }
    }

    public func markUnready(_ name: String) {
        workers.withLock { $0[name]?.ready = false }
    }

    public func markStopped(_ name: String) {
        workers.withLock { $0[name]?.stopped = true }
    }

    public func setStuckPartitions(_ name: String, _ partitions: [Int32]) {
        workers.withLock { $0[name]?.stuckPartitions = partitions }
    }

    /// Workers that stopped, made no progress within their threshold, or keep aborting (empty: live).
    public func stalledWorkers(now: ContinuousClock.Instant = .now) -> [String] {
        workers.withLock { workers in
            workers.filter {
                $0.value.stopped || now - $0.value.lastProgress > $0.value.stallThreshold
                    || $0.value.consecutiveAborts >= $0.value.maxConsecutiveAborts
            }.keys.sorted()
        }
    }

    /// Workers that have not restored their state yet, or have a stuck partition (empty: ready).
    public func unreadyWorkers() -> [String] {
        workers.withLock { workers in workers.filter { !$0.value.ready || !$0.value.stuckPartitions.isEmpty }.keys.sorted() }
    }

    /// Stuck partitions per worker, for `/health/ready`.
    public func stuckPartitions() -> [String: [Int32]] {
        workers.withLock { workers in workers.compactMapValues { $0.stuckPartitions.isEmpty ? nil : $0.stuckPartitions } }
    }

    public var isLive: Bool { stalledWorkers().isEmpty }
    public var isReady: Bool { !workers.withLock { $0.isEmpty } && unreadyWorkers().isEmpty }
}
