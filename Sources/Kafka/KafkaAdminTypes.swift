/// A topic to create.
public struct KafkaNewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// `-1` uses the broker's default.
    public var replicationFactor: Int
    public var configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A topic as the cluster's metadata describes it.
public struct KafkaTopicDescription: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// Replicas of partition 0 (all partitions of a Souk topic share one factor).
    public var replicationFactor: Int
}

/// A consumer group as `listGroups` reports it.
public struct KafkaGroupListing: Sendable, Hashable {
    public var groupID: String
    /// Kafka's group state: `Stable`, `Empty`, `PreparingRebalance`, … (`Unknown` where the broker does not say).
    public var state: String
}

/// A member of a consumer group.
public struct KafkaGroupMember: Sendable, Hashable {
    public var memberID: String
    public var clientID: String
    public var host: String
    public var assignment: [KafkaTopicPartition]
}

/// One partition's committed position and lag in a group.
public struct KafkaPartitionLag: Sendable, Hashable {
    public var topicPartition: KafkaTopicPartition
    /// The next offset the group will read; `nil` when it has committed nothing.
    public var committed: Int64?
    /// The partition's end (high watermark; with transactions, the last stable offset under `read_committed`).
    public var endOffset: Int64
    /// Records still to read, when counted (`KafkaAdminClient.countRecords`): transaction markers
    /// occupy offsets without being records, so offsets alone overstate a transactional group's lag.
    public var counted: Int64?
    /// The records between the committed offset and the end when counted, else `endOffset - committed`
    /// (the whole partition when nothing is committed).
    public var lag: Int64 { counted ?? max(0, endOffset - (committed ?? 0)) }

    public init(topicPartition: KafkaTopicPartition, committed: Int64?, endOffset: Int64, counted: Int64? = nil) {
        self.topicPartition = topicPartition
        self.committed = committed
        self.endOffset = endOffset
        self.counted = counted
    }
}

/// A consumer group: its state, members and the lag of every partition it has committed offsets for.
public struct KafkaGroupDescription: Sendable, Hashable {
    public var groupID: String
    public var state: String
    public var members: [KafkaGroupMember]
    public var partitions: [KafkaPartitionLag]

    public var totalLag: Int64 { partitions.reduce(0) { $0 + $1.lag } }
}

/// Where to move a group's offsets.
public enum KafkaOffsetTarget: Sendable, Hashable {
    case earliest
    case latest
    case offset(Int64)
    /// The first offset whose timestamp is at or after this many milliseconds since the Unix epoch.
    case timestamp(milliseconds: Int64)
}
