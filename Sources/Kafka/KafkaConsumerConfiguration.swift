/// Configuration of a `KafkaConsumer`.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    public enum IsolationLevel: String, Sendable, Hashable {
        case readCommitted = "read_committed"
        case readUncommitted = "read_uncommitted"
    }

    public enum AutoOffsetReset: String, Sendable, Hashable {
        case earliest, latest, error
    }

    /// `cooperativeSticky` moves only the partitions that change owner; the others revoke everything.
    public enum AssignmentStrategy: String, Sendable, Hashable {
        case range
        case roundRobin = "roundrobin"
        case cooperativeSticky = "cooperative-sticky"
    }

    public var bootstrapServers: String
    public var groupID: String
    public var clientID: String
    public var isolationLevel: IsolationLevel
    public var autoOffsetReset: AutoOffsetReset
    /// Off by default: Souk commits offsets explicitly or inside transactions.
    public var enableAutoCommit: Bool
    public var assignmentStrategy: AssignmentStrategy
    public var timings: KafkaConsumerTimings
    /// Passed to librdkafka as they are; these win over the typed fields.
    public var additional: [String: String]

    public init(
        bootstrapServers: String,
        groupID: String,
        clientID: String = "souk",
        isolationLevel: IsolationLevel = .readCommitted,
        autoOffsetReset: AutoOffsetReset = .earliest,
        enableAutoCommit: Bool = false,
        assignmentStrategy: AssignmentStrategy = .range,
        timings: KafkaConsumerTimings = .kafkaDefaults,
        additional: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.clientID = clientID
        self.isolationLevel = isolationLevel
        self.autoOffsetReset = autoOffsetReset
        self.enableAutoCommit = enableAutoCommit
        self.assignmentStrategy = assignmentStrategy
        self.timings = timings
        self.additional = additional
    }

    var config: KafkaConfig {
        KafkaConfig([
            "bootstrap.servers": bootstrapServers,
            "group.id": groupID,
            "client.id": clientID,
            "isolation.level": isolationLevel.rawValue,
            "auto.offset.reset": autoOffsetReset.rawValue,
            "enable.auto.commit": enableAutoCommit ? "true" : "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "false",
            "partition.assignment.strategy": assignmentStrategy.rawValue,
        ]).merging(timings.properties).merging(additional)
    }
}
