/// A partition whose last stable offset is below its end: some transaction that wrote it has not
/// ended, and `read_committed` readers (every Souk worker) stop there.
public struct KafkaUnstablePartition: Sendable, Hashable, CustomStringConvertible {
    public var partition: KafkaTopicPartition
    public var lastStableOffset: Int64
    public var highWatermark: Int64

    public var description: String { "\(partition): last stable offset \(lastStableOffset) of \(highWatermark)" }
}

extension KafkaAdminClient {
    /// The partitions among `partitions` that a transaction holds right now. librdkafka reports no
    /// last stable offset, so this reads it from a fetch response (`KafkaWireClient`, plaintext only).
    public func unstablePartitions(_ partitions: [KafkaTopicPartition]) async throws -> [KafkaUnstablePartition] {
        try await KafkaWireClient.with(servers: bootstrapServers, timeout: timeout) { wire in
            try partitions.compactMap { partition in
                // An empty partition holds nothing, and a fetch on it would wait out its wait.
                guard try wire.latestOffset(partition) > 0 else { return nil }
                let fetched = try wire.fetch(partition, from: 0, maxBytes: 1)
                guard fetched.lastStableOffset < fetched.highWatermark else { return nil }
                return KafkaUnstablePartition(partition: partition, lastStableOffset: fetched.lastStableOffset, highWatermark: fetched.highWatermark)
            }
        }
    }
}
