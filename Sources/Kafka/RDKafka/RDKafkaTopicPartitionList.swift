import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t` and converts it to and from Swift values.
final class RDKafkaTopicPartitionList {
    // Private: a caller holding the raw pointer could outlive this owner; `withPointer` cannot.
    private let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    private let owned: Bool

    init(capacity: Int = 1) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: max(1, capacity)))
        owned = true
    }

    /// Wraps a list that librdkafka owns (for example inside a callback or a result event).
    init(borrowing pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
        owned = false
    }

    convenience init(_ offsets: [KafkaTopicPartitionOffset]) {
        self.init(capacity: offsets.count)
        for entry in offsets { add(entry.topicPartition, offset: entry.offset) }
    }

    convenience init(_ partitions: [KafkaTopicPartition]) {
        self.init(partitions.map { KafkaTopicPartitionOffset($0, offset: .invalid) })
    }

    deinit {
        if owned { rd_kafka_topic_partition_list_destroy(pointer) }
    }

    /// Lends the C list to `body`, keeping this owner (and so the list) alive until `body` returns.
    func withPointer<R>(_ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(pointer) }
    }

    func add(_ topicPartition: KafkaTopicPartition, offset: KafkaOffset) {
        let element = rd_kafka_topic_partition_list_add(pointer, topicPartition.topic, topicPartition.partition)!
        element.pointee.offset = offset.rawValue
    }

    var elements: [(offset: KafkaTopicPartitionOffset, error: rd_kafka_resp_err_t)] {
        let list = pointer.pointee
        return (0..<Int(list.cnt)).map { index in
            let element = list.elems[index]
            let partition = KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)
            return (KafkaTopicPartitionOffset(partition, offset: KafkaOffset(element.offset)), element.err)
        }
    }

    var offsets: [KafkaTopicPartitionOffset] { elements.map(\.offset) }

    var partitions: [KafkaTopicPartition] { offsets.map(\.topicPartition) }

    /// Throws the first per-partition error, which librdkafka reports inside the list.
    func checkElements() throws(KafkaError) {
        for element in elements where element.error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: element.error, message: "\(element.offset.topicPartition): \(String(cString: rd_kafka_err2str(element.error)))")
        }
    }
}
