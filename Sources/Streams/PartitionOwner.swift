import Kafka
import Synchronization

/// What a worker knows about one input partition it owns (every input topic's partition of that
/// number): whether it is ready, the version its changelog writes carry, and what its next transaction
/// must include. Used by the worker loop only.
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
    /// The version of the next transaction's changelog records.
    var version = ChangelogVersion.initial
    /// Keys to write again with the next commit (a previous owner's leftovers).
    var rewrite: Set<String> = []
    /// Since when its commits fail (nil: the last one committed).
    var failingSince: ContinuousClock.Instant?
    /// Per input topic, the offset after the last record handled into a round (at first, where the
    /// restored state left off; absent: from the beginning). A rewind reads every input from here:
    /// a poll's records past it that were dropped (stale after a seek) are read again, none twice.
    var next: [String: Int64] = [:]
    /// Whether this worker's transactional id is named in the partition's changelog yet (see
    /// `StreamWorker.produce`).
    var claimed = false

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

    /// The version a transaction about to be committed writes with: every attempt takes the next.
    func nextVersion() -> ChangelogVersion {
        defer { version = version.next }
        return version
    }

    func committed() {
        rewrite = []
        failingSince = nil
    }

    func failed() {
        if failingSince == nil { failingSince = .now }
    }
}

/// A partition made ready by a preparation task: its previous owner fenced, its state restored, with
/// the offsets the state matches.
struct PreparedPartition<State: Codable & Sendable & Equatable>: Sendable {
    var partition: Int32
    var token: Int
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

/// How a round's transaction ended.
enum CommitResult: Sendable {
    case committed
    /// Not attempted (aborted): a partition of it was revoked, or the assignment lost.
    case skipped
    /// Aborted (or never begun): nothing of it counts. `failures` are tagged deliveries that failed.
    case aborted(KafkaError, failures: [(tag: Int, error: KafkaError)])
    /// May or may not have committed.
    case unknown(KafkaError)
    /// Fenced: a partition's new owner fenced this worker's transactional id.
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
