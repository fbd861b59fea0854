import Kafka
import Synchronization

/// What a worker knows about one input partition it owns (every input topic's partition of that
/// number): the partition's own transactional producer, the version its changelog writes carry, and
/// what its next transaction must include. Used by the worker loop only.
final class PartitionOwner {
    enum Phase {
        /// Fencing the previous owner and restoring; its inputs stay paused.
        case preparing(since: ContinuousClock.Instant)
        case ready
    }

    let partition: Int32
    /// Changes with every (re)preparation: a preparation that finishes for an older token is stale.
    let token: Int
    var phase: Phase
    var producer: KafkaTransactionalProducer?
    /// Whether the producer's transaction is open (begun for the round being filled or committed).
    var inTransaction = false
    /// The version of the next transaction's changelog records.
    var version = ChangelogVersion.initial
    /// Offsets of batches that wrote nothing, committed with the next transaction that writes.
    var carried: [KafkaTopicPartition: Int64] = [:]
    var carriedSince: ContinuousClock.Instant?
    /// Keys to write again with the next commit (a previous owner's leftovers).
    var rewrite: Set<String> = []
    /// Since when its batches abort or fail (nil: the last one committed).
    var failingSince: ContinuousClock.Instant?
    /// Its last commit, until the group is seen to show its offsets (`StreamConfiguration.confirmCommits`).
    var lastCommit: (offsets: [KafkaTopicPartition: Int64], at: ContinuousClock.Instant)?
    /// Whether that commit was the closing marker of an idle partition (see `StreamWorker.idleCommits`).
    var lastCommitClosed = false

    init(partition: Int32, token: Int) {
        self.partition = partition
        self.token = token
        phase = .preparing(since: .now)
    }

    var isReady: Bool {
        if case .ready = phase { return true }
        return false
    }

    /// Preparing or failing for longer than `threshold`.
    func isStuck(threshold: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        switch phase {
        case .preparing(let since): now - since > threshold
        case .ready: failingSince.map { now - $0 > threshold } ?? false
        }
    }

    func carry(_ offsets: [KafkaTopicPartition: Int64]) {
        carried.merge(offsets) { max($0, $1) }
        if carriedSince == nil { carriedSince = .now }
    }

    /// The version a transaction about to be committed writes with: every attempt takes the next.
    func nextVersion() -> ChangelogVersion {
        defer { version = version.next }
        return version
    }

    func committed(_ offsets: [KafkaTopicPartition: Int64], closing: Bool = false) {
        lastCommit = (offsets, .now)
        lastCommitClosed = closing
        carried = [:]
        carriedSince = nil
        rewrite = []
        failingSince = nil
    }

    func failed() {
        if failingSince == nil { failingSince = .now }
    }
}

/// A partition made ready by a preparation task: fenced, restored, with the offsets its state matches.
struct PreparedPartition<State: Codable & Sendable & Equatable>: Sendable {
    var partition: Int32
    var token: Int
    var producer: KafkaTransactionalProducer?
    var committed: [KafkaTopicPartition: Int64]
    var restored: ChangelogRestorer<State>.Restored
}

/// Where preparation tasks leave their results for the worker loop.
final class PreparedInbox<State: Codable & Sendable & Equatable>: Sendable {
    let items = Mutex<[PreparedPartition<State>]>([])
    /// The preparation each partition wants now, by token: one that is no longer wanted (the
    /// partition was revoked or prepared anew) must not initialise the transactional id, which
    /// would fence whoever owns the partition now.
    let wanted = Mutex<[Int32: Int]>([:])

    func isWanted(_ partition: Int32, token: Int) -> Bool { wanted.withLock { $0[partition] == token } }
}

/// How one partition's transaction ended.
enum PartitionCommitResult: Sendable {
    case committed
    /// Not attempted: the partition was revoked or the assignment lost.
    case skipped
    /// Aborted (or never begun): nothing of it counts. `failures` are tagged deliveries that failed.
    case aborted(KafkaError, failures: [(tag: Int, error: KafkaError)])
    /// May or may not have committed.
    case unknown(KafkaError)
    /// Fenced: another owner holds the partition's transactional id.
    case fenced(KafkaError)
}

extension KafkaError {
    /// Delivery errors that no retry cures: the input that caused the record goes to the dead-letter topic.
    var isPermanentDeliveryFailure: Bool {
        switch codeName {
        case "MSG_SIZE_TOO_LARGE", "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "_UNKNOWN_PARTITION", "INVALID_RECORD",
            "RECORD_LIST_TOO_LARGE", "TOPIC_AUTHORIZATION_FAILED", "INVALID_TOPIC_EXCEPTION", "_INVALID_ARG":
            true
        default: false
        }
    }
}
