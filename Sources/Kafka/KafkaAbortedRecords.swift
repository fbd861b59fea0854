/// The offsets of a partition that belong to aborted transactions, read from the partition's own
/// batches and markers. The local broker hands records of aborted transactions to `read_committed`
/// readers as if they were committed (INFRA.md); a reader that must count only what happened (the
/// load test's invariants) leaves these out. On Apache Kafka such a reader never sees them, and
/// leaving them out changes nothing.
public struct KafkaAbortedRecords: Sendable {
    /// Per partition, the aborted offset ranges.
    public private(set) var ranges: [KafkaTopicPartition: [ClosedRange<Int64>]] = [:]

    public func contains(_ partition: KafkaTopicPartition, offset: Int64) -> Bool {
        ranges[partition]?.contains { $0.contains(offset) } ?? false
    }

    /// Reads `partitions` whole (plaintext only) and collects the batches whose producer's next
    /// marker aborts.
    public static func read(_ partitions: some Collection<KafkaTopicPartition>, bootstrapServers: String, timeout: Duration = .seconds(10)) async throws
        -> KafkaAbortedRecords
    {
        let partitions = Array(partitions)
        return try await KafkaWireClient.with(servers: bootstrapServers, timeout: timeout) { wire in
            var aborted = KafkaAbortedRecords()
            for partition in partitions { aborted.ranges[partition] = try scan(partition, wire) }
            return aborted
        }
    }

    private static func scan(_ partition: KafkaTopicPartition, _ wire: KafkaWireClient) throws -> [ClosedRange<Int64>] {
        var open: [Int64: [ClosedRange<Int64>]] = [:]  // producer id → its batches since its last marker
        var aborted: [ClosedRange<Int64>] = []
        try wire.walk(partition, from: 0, maxBytes: 1 << 22) { _, batches in
            for (batch, commits) in batches where batch.isTransactional {
                if batch.isControl {
                    if commits == false { aborted += open[batch.producerID] ?? [] }
                    open[batch.producerID] = nil
                } else {
                    open[batch.producerID, default: []].append(batch.baseOffset...(batch.baseOffset + Int64(batch.lastOffsetDelta)))
                }
            }
            return true
        }
        return aborted
    }
}
