import CRdKafka

extension KafkaAdminClient {
    /// The end offset of each partition as a `read_committed` reader sees it (the last stable offset).
    ///
    /// Taken from a fetch response, not from ListOffsets: some Kafka-compatible brokers (the local one
    /// among them) answer "latest" with the start of the last batch + 1, which would understate lag.
    /// A probe consumer that never joins a group or commits fetches the last batch of each partition.
    public func endOffsets(_ partitions: [KafkaTopicPartition]) async throws -> [KafkaTopicPartition: Int64] {
        var listed: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions { listed[partition] = try await watermarks(partition).high }
        let nonEmpty = listed.filter { $0.value > 0 }
        guard !nonEmpty.isEmpty else { return listed }

        let probe = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: bootstrapServers,
                groupID: "souk-end-offset-probe",
                clientID: "souk-admin-probe",
                additional: ["fetch.wait.max.ms": "10"]
            ),
            logger: client.logger
        )
        try await probe.assign(nonEmpty.map { KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value - 1)) })
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var fetched: [KafkaTopicPartition: Int64] = [:]
        while fetched.count < nonEmpty.count && clock.now < deadline {
            _ = try await probe.poll(maxMessages: 10_000, timeout: .milliseconds(20))
            for partition in nonEmpty.keys where fetched[partition] == nil {
                if let high = probe.cachedHighWatermark(partition) { fetched[partition] = high }
            }
        }
        try await probe.close()
        return listed.merging(fetched) { listedHigh, fetchedHigh in max(listedHigh, fetchedHigh) }
    }
}

extension KafkaAdminClient {
    /// Counts the records a `read_committed` reader gets between each start offset and the end: the
    /// exact lag of a group whose commits, made inside transactions, stop short of the commit markers.
    /// - Returns: per partition, the count (missing when the end was not reached in time).
    public func countRecords(from starts: [KafkaTopicPartition: Int64], to ends: [KafkaTopicPartition: Int64]) async throws -> [KafkaTopicPartition: Int64] {
        let pending = starts.filter { (ends[$0.key] ?? 0) > $0.value }
        var counts = starts.filter { (ends[$0.key] ?? 0) <= $0.value }.mapValues { _ in Int64(0) }
        guard !pending.isEmpty else { return counts }
        let probe = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: bootstrapServers, groupID: "souk-lag-probe", clientID: "souk-admin-probe",
                additional: ["fetch.wait.max.ms": "10", "enable.partition.eof": "true"]
            ),
            logger: client.logger
        )
        try await probe.assign(pending.map { KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value)) })
        var running = pending.mapValues { _ in Int64(0) }
        var done = Set<KafkaTopicPartition>()
        let deadline = ContinuousClock.now + timeout
        while done.count < pending.count && ContinuousClock.now < deadline {
            let batch = try await probe.pollBatch(maxMessages: 10_000, timeout: .milliseconds(50))
            for message in batch.messages where !done.contains(message.topicPartition) {
                guard message.offset < ends[message.topicPartition] ?? 0 else { done.insert(message.topicPartition); continue }
                running[message.topicPartition, default: 0] += 1
            }
            for (partition, offset) in batch.endOfPartition where offset >= (ends[partition] ?? 0) - 1 { done.insert(partition) }
        }
        try await probe.close()
        for partition in done { counts[partition] = running[partition] }
        return counts
    }
}

extension KafkaConsumer {
    /// The high watermark (the last stable offset under `read_committed`) of the last fetch response
    /// for `partition`, or `nil` before one arrived. Does not block.
    public func cachedHighWatermark(_ partition: KafkaTopicPartition) -> Int64? {
        var low: Int64 = -1
        var high: Int64 = -1
        let code = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return high
    }
}
