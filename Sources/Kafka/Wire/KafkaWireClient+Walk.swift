extension KafkaWireClient {
    /// Reads `partition` from `offset` on, one fetch after another, and hands `body` each fetch with its
    /// whole batches from `offset` on (a control batch with whether its marker commits). Only whole
    /// batches move the position on: one cut short at the end of a fetch is read again in the next, and
    /// one larger than a whole fetch is asked for with more bytes. Ends at the partition's high
    /// watermark, where nothing is stored, or when `body` returns false.
    package func walk(
        _ partition: KafkaTopicPartition,
        from offset: Int64,
        maxBytes: Int32 = 1 << 20,
        _ body: (_ fetched: Fetched, _ batches: [(header: KafkaRecordBatchHeader, commits: Bool?)]) throws -> Bool
    ) throws {
        var next = offset, maxBytes = maxBytes
        while true {
            let fetched = try fetch(partition, from: next, maxBytes: maxBytes)
            let whole = KafkaRecordBatchHeader.batchesWithMarkers(in: fetched.records)
            let batches = whole.filter { $0.header.baseOffset + Int64($0.header.lastOffsetDelta) >= next }
            guard try body(fetched, batches) else { return }
            guard let end = batches.last?.header else {
                let cutShort = fetched.batches.count > whole.count
                guard cutShort, maxBytes < 1 << 28 else { return }
                maxBytes *= 4
                continue
            }
            next = end.baseOffset + Int64(end.lastOffsetDelta) + 1
            if next >= fetched.highWatermark { return }
        }
    }
}
