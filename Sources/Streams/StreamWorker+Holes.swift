import Kafka

// MARK: - Records the broker let the consumer skip

extension StreamWorker {
    /// Where each input partition of `records` skips offsets: from what its partition handled last
    /// (or the first record before it) to the next record read.
    func gaps(in records: [InboundRecord], _ owned: Owned) -> [KafkaOffsetGaps.Gap] {
        var expected: [KafkaTopicPartition: Int64] = [:]
        var gaps: [KafkaOffsetGaps.Gap] = []
        for record in records {
            let input = KafkaTopicPartition(topic: record.topic, partition: record.partition)
            // Nothing handled yet on this broker, which never deletes records: the log starts at 0.
            let next = expected[input] ?? owned.owners[record.partition]?.next[record.topic] ?? 0
            if record.offset > next { gaps.append(KafkaOffsetGaps.Gap(input, from: next, to: record.offset)) }
            expected[input] = max(next, record.offset + 1)
        }
        return gaps
    }

    /// Takes the records of partitions with a hole out of `records` and reads those partitions again
    /// from what they handled last: the record the consumer skipped comes first then, or, not stored
    /// yet, the next poll finds the same hole (`StreamConfiguration.verifyOffsetGaps`).
    func readAgainPastHoles(_ records: inout [InboundRecord], _ checker: KafkaOffsetGaps, _ owned: Owned, _ context: Context) async throws {
        let holes = await checker.holes(among: gaps(in: records, owned))
        guard !holes.isEmpty else { return }
        let partitions = Set(holes.map(\.partition.partition))
        metrics.recordHoles(holes.count)
        logger.info(
            "the broker skipped offsets holding records; reading the partitions again",
            metadata: ["kafka.gaps": "\(holes.map(\.description).joined(separator: ","))"]
        )
        try await rewind(context.consumer, partitionsOf: records.filter { partitions.contains($0.partition) }, owned)
        records.removeAll { partitions.contains($0.partition) }
    }
}
