/// A record read by a `KafkaConsumer`. The bytes are copied out of librdkafka's buffers: key and value
/// each in an array of their own, the headers in one buffer (`KafkaHeaders`); the topic's name is
/// shared by every record the consumer read from that topic.
public struct KafkaConsumerMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: KafkaHeaders
    /// Milliseconds since the Unix epoch, when the broker or producer recorded one.
    public var timestampMilliseconds: Int64?

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: KafkaHeaders = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

/// What one `pollBatch` call returned.
public struct KafkaConsumerBatch: Sendable {
    public var messages: [KafkaConsumerMessage] = []
    /// Partitions whose end was reached during the call, with the offset reached.
    public var endOfPartition: [KafkaTopicPartition: Int64] = [:]
    /// Partitions revoked during the call; their records were dropped from `messages`.
    public var revoked: Set<KafkaTopicPartition> = []
}
