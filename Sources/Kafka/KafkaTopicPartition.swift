/// A partition of a topic.
public struct KafkaTopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// An offset in a partition, or one of Kafka's logical offsets.
public struct KafkaOffset: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: Int64

    public init(_ rawValue: Int64) {
        self.rawValue = rawValue
    }

    public static let beginning = KafkaOffset(-2)
    public static let end = KafkaOffset(-1)
    /// What a group has committed (or `auto.offset.reset` when it has nothing).
    public static let stored = KafkaOffset(-1000)
    public static let invalid = KafkaOffset(-1001)

    public var isLogical: Bool { rawValue < 0 }

    public var description: String {
        switch self {
        case .beginning: "beginning"
        case .end: "end"
        case .stored: "stored"
        case .invalid: "none"
        default: String(rawValue)
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A partition together with an offset in it.
public struct KafkaTopicPartitionOffset: Sendable, Hashable {
    public var topicPartition: KafkaTopicPartition
    public var offset: KafkaOffset

    public init(_ topicPartition: KafkaTopicPartition, offset: KafkaOffset) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    public init(topic: String, partition: Int32, offset: KafkaOffset) {
        self.init(KafkaTopicPartition(topic: topic, partition: partition), offset: offset)
    }
}
