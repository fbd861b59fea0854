import Foundation
import Kafka

/// How a worker runs; defaults suit production, the local stack overrides the consumer timings.
public struct StreamConfiguration: Sendable {
    public var bootstrapServers: String
    public var timings: KafkaConsumerTimings
    /// The worker's slot (like a StatefulSet ordinal). The transactional id is `<role>-<instance>`, so a
    /// restarted worker fences its dead predecessor at once.
    public var instance: Int
    public var batchSize: Int
    /// The longest a batch keeps collecting records after its first one before it is committed.
    public var commitInterval: Duration
    /// `false` runs at-least-once (no transactions; offsets committed after the outputs are acknowledged).
    public var exactlyOnce: Bool
    public var dedupeWindow: Int
    public var maxMessageBytes: Int
    public var retryPolicy: RetryPolicy
    /// Creates the changelog and dead-letter topics when they are missing.
    public var createTopics: Bool
    /// `/health/live` fails when no poll or batch completed for this long.
    public var stallThreshold: Duration
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
    /// Whether each commit is checked to have reached the group's offsets. The local broker was seen to
    /// acknowledge a transaction's commit and then neither apply its offsets nor end it, leaving every
    /// reader of its partitions stuck; a worker that notices replaces its producer and reprocesses.
    /// The grace is long because the same broker delays a transaction's offsets while another
    /// producer's transaction is open on a partition it touches: giving up too early aborts work that
    /// would have landed, and two workers doing that to each other never finish.
    public var verifyCommits: Bool
    public var commitVerificationTimeout: Duration

    public init(
        bootstrapServers: String,
        timings: KafkaConsumerTimings = .kafkaDefaults,
        instance: Int = 0,
        batchSize: Int = 500,
        commitInterval: Duration = .milliseconds(100),
        exactlyOnce: Bool = true,
        dedupeWindow: Int = 256,
        maxMessageBytes: Int = 1_048_576,
        retryPolicy: RetryPolicy = RetryPolicy(),
        createTopics: Bool = true,
        stallThreshold: Duration = .seconds(30),
        producerOverrides: [String: String] = [:],
        consumerOverrides: [String: String] = [:],
        stateDirectory: URL? = nil,
        snapshotInterval: Duration = .seconds(60),
        leaveGroupOnClose: Bool = true,
        verifyCommits: Bool = true,
        commitVerificationTimeout: Duration = .seconds(10)
    ) {
        self.bootstrapServers = bootstrapServers
        self.timings = timings
        self.instance = instance
        self.batchSize = batchSize
        self.commitInterval = commitInterval
        self.exactlyOnce = exactlyOnce
        self.dedupeWindow = dedupeWindow
        self.maxMessageBytes = maxMessageBytes
        self.retryPolicy = retryPolicy
        self.createTopics = createTopics
        self.stallThreshold = stallThreshold
        self.producerOverrides = producerOverrides
        self.consumerOverrides = consumerOverrides
        self.stateDirectory = stateDirectory
        self.snapshotInterval = snapshotInterval
        self.leaveGroupOnClose = leaveGroupOnClose
        self.verifyCommits = verifyCommits
        self.commitVerificationTimeout = commitVerificationTimeout
    }

    public func transactionalID(role: String) -> String { "souk-\(role)-\(instance)" }
    public func groupID(role: String) -> String { "souk-\(role)" }
}
