import Foundation
import Kafka

/// How a worker runs; defaults suit production, the local stack overrides the consumer timings.
public struct StreamConfiguration: Sendable {
    public var bootstrapServers: String
    public var timings: KafkaConsumerTimings
    /// The worker's instance number: names its client and transactional ids. Each worker's
    /// transactional id is its own (`transactionalID(role:token:)`), so any number of instances, with
    /// any numbers, can run side by side.
    public var instance: Int
    /// The most records one transaction carries: a round keeps taking fetched records until it has this
    /// many or `commitInterval` has passed since its first one, whichever comes first, and is committed
    /// as soon as the fetched records are drained.
    public var batchSize: Int
    /// Records taken from the consumer per poll while a batch collects.
    public var pollChunk: Int = 2000
    /// The longest a batch keeps collecting records after its first one before it is committed.
    public var commitInterval: Duration
    /// `false` runs at-least-once (no transactions; offsets committed after the outputs are acknowledged).
    public var exactlyOnce: Bool
    public var dedupeWindow: DedupeWindow
    public var maxMessageBytes: Int
    /// The largest state value (one key's, encoded) the runtime keeps: a record that would make one
    /// larger is dead-lettered with the role and key named, so that a state that outgrows the
    /// changelog's record size is an error, never a role that can no longer commit.
    public var maxStateBytes: Int
    public var retryPolicy: RetryPolicy
    /// Creates the changelog and dead-letter topics when they are missing.
    public var createTopics: Bool
    /// `/health/live` fails when input waits and nothing commits or advances for this long; a partition
    /// in that state for this long is reported stuck on `/health/ready`.
    public var stallThreshold: Duration
    /// `/health/live` fails after this many aborted (or unknown) commits in a row.
    public var maxConsecutiveAborts: Int
    /// A batch takes no new record once it has run this long (a slow handler holds it up no longer).
    public var batchTimeBound: Duration
    /// How long a commit that times out is repeated before its outcome counts as unknown.
    public var commitBound: Duration
    public var producerOverrides: [String: String]
    public var consumerOverrides: [String: String]
    /// Where local state snapshots go (`nil`: none; every restore reads the whole changelog).
    public var stateDirectory: URL?
    /// How often a partition's state is snapshotted, after a commit.
    public var snapshotInterval: Duration
    /// Whether a stopping worker sends LeaveGroup (its partitions move at once). The local broker can
    /// lose a group whose members leave during a rebalance, so the local stack turns this off: stopped
    /// workers then expire after the session timeout, like crashed ones.
    public var leaveGroupOnClose: Bool
    /// Whether an idle worker checks that the group shows its last commit's offsets (one
    /// OffsetFetch, `confirmInterval` after the commit) and, while it does not, commits again. On the
    /// local broker a transaction that finds an overlapping one still open at its `EndTxn` stays
    /// prepared until a later overlapping `EndTxn` finishes it, and pins the last stable offset of
    /// everything it wrote for all readers. Under traffic the producer's own next transaction folds
    /// it in; when the flow goes quiet nothing overlapping ends any more, and without another commit
    /// the saga's last events, or inventory's, stay invisible for good. Apache Kafka finishes every
    /// commit by itself (turn it off there).
    public var confirmCommits: Bool
    /// Whether a partition's new owner ends the epoch that last wrote the partition's changelog before
    /// it fences its writer (`KafkaEpochRepair`). On the local broker a predecessor killed right after
    /// a commit can leave that epoch holding partitions for every writer, for good, and initialising
    /// the writer's id does not end it; Apache Kafka does not need it (turn it off there).
    public var endPredecessorEpochs: Bool
    /// Whether the records read are checked for offsets skipped over records (`KafkaOffsetGaps`):
    /// the local broker can hand a reader a batch before an earlier one of another producer is
    /// stored, and the reader would never read that one. A partition with such a hole is read again
    /// from what it handled last. Apache Kafka has no such holes but has gaps this check cannot tell
    /// from them (aborted transactions, compaction): turn it off there.
    public var verifyOffsetGaps: Bool
    public var confirmInterval: Duration = .milliseconds(250)
    /// How long a poll waits for records when the worker has nothing else to do (a commit that
    /// returns meanwhile cuts it short).
    public var pollTimeout: Duration = .milliseconds(100)

    public init(
        bootstrapServers: String,
        timings: KafkaConsumerTimings = .kafkaDefaults,
        instance: Int = 0,
        batchSize: Int = 10_000,
        commitInterval: Duration = .milliseconds(100),
        exactlyOnce: Bool = true,
        dedupeWindow: DedupeWindow = DedupeWindow(),
        maxMessageBytes: Int = 1_000_000,
        maxStateBytes: Int = 512 * 1024,
        retryPolicy: RetryPolicy = RetryPolicy(),
        createTopics: Bool = true,
        stallThreshold: Duration = .seconds(30),
        maxConsecutiveAborts: Int = 20,
        batchTimeBound: Duration = .seconds(3),
        commitBound: Duration = .seconds(20),
        producerOverrides: [String: String] = [:],
        consumerOverrides: [String: String] = [:],
        stateDirectory: URL? = nil,
        snapshotInterval: Duration = .seconds(60),
        leaveGroupOnClose: Bool = true,
        confirmCommits: Bool = true,
        endPredecessorEpochs: Bool = true,
        verifyOffsetGaps: Bool = true
    ) {
        self.bootstrapServers = bootstrapServers
        self.timings = timings
        self.instance = instance
        self.batchSize = batchSize
        self.commitInterval = commitInterval
        self.exactlyOnce = exactlyOnce
        self.dedupeWindow = dedupeWindow
        self.maxMessageBytes = maxMessageBytes
        self.maxStateBytes = maxStateBytes
        self.retryPolicy = retryPolicy
        self.createTopics = createTopics
        self.stallThreshold = stallThreshold
        self.maxConsecutiveAborts = maxConsecutiveAborts
        self.batchTimeBound = batchTimeBound
        self.commitBound = commitBound
        self.producerOverrides = producerOverrides
        self.consumerOverrides = consumerOverrides
        self.stateDirectory = stateDirectory
        self.snapshotInterval = snapshotInterval
        self.leaveGroupOnClose = leaveGroupOnClose
        self.confirmCommits = confirmCommits
        self.endPredecessorEpochs = endPredecessorEpochs
        self.verifyOffsetGaps = verifyOffsetGaps
    }

    /// One transactional id per worker, never shared with another process: `token` is drawn when the
    /// worker starts. A partition's next owner fences whoever wrote its changelog last (the id is in
    /// the changelog's records) before restoring, so nothing depends on an id coming back.
    public func transactionalID(role: String, token: String) -> String { "souk-\(role)-\(instance)-\(token)" }

    /// The id each input partition had when every partition had a producer of its own: a changelog
    /// written before the worker's id was named in it names its writer this way.
    func legacyTransactionalID(role: String, partition: Int32) -> String { "souk-\(role)-p\(partition)" }

    public func clientID(role: String) -> String { "souk-\(role)-\(instance)" }
    public func groupID(role: String) -> String { "souk-\(role)" }
}

extension StreamConfiguration {
    var sessionTimeout: Duration { timings.sessionTimeout ?? .seconds(45) }

    /// Whether the worker went three quarters of a session without polling lately: it may be a zombie
    /// whose partitions moved while it was frozen, and librdkafka may not have noticed yet. (A
    /// shorter gap is mere starvation: librdkafka's own thread keeps heartbeating meanwhile.)
    func mayHaveBeenAway(_ consumer: KafkaConsumer) -> Bool {
        consumer.wasAway(longerThan: sessionTimeout * 3 / 4, within: sessionTimeout)
    }

    /// How long to wait before initialising a partition's transactional id again: a session when the
    /// worker may have been away (the group revokes the partition meanwhile if it moved), else nothing.
    func awayQuarantine(_ consumer: KafkaConsumer) -> Duration {
        mayHaveBeenAway(consumer) ? sessionTimeout : .zero
    }
}
