/// The fixed head of a v2 record batch: who wrote it and how. Enough to tell which producer epoch
/// last wrote to a partition without decoding (or decompressing) any record.
package struct KafkaRecordBatchHeader: Sendable, Equatable {
    package var baseOffset: Int64
    package var lastOffsetDelta: Int32
    package var attributes: Int16
    package var producerID: Int64
    package var producerEpoch: Int16
    package var baseSequence: Int32
    package var recordCount: Int32

    package var isTransactional: Bool { attributes & 0x10 != 0 }
    package var isControl: Bool { attributes & 0x20 != 0 }

    /// The batches' heads in a fetch response's records field. A batch cut short at the end of the
    /// field (a broker may stop mid-batch) still has its head.
    package static func headers(in records: [UInt8]) -> [KafkaRecordBatchHeader] {
        batches(in: records).map(\.header)
    }

    /// The batches' heads, each with where its records start and whether all of them are in `records`.
    private static func batches(in records: [UInt8]) -> [(header: KafkaRecordBatchHeader, recordsStart: Int, complete: Bool)] {
        var batches: [(KafkaRecordBatchHeader, Int, Bool)] = []
        var reader = KafkaWireReader(records)
        while reader.remaining >= 61 {
            let start = reader.position
            guard let header = try? read(&reader), header.batchLength >= 49 else { break }
            let next = start + 12 + Int(header.batchLength)
            batches.append((header.value, reader.position, next <= records.count))
            guard next <= records.count else { break }
            reader = KafkaWireReader(records, position: next)
        }
        return batches
    }

    /// The complete batches in `records`, each with, for a control batch, whether its marker commits
    /// (`true`) or aborts (`false`) its producer's transaction.
    package static func batchesWithMarkers(in records: [UInt8]) -> [(header: KafkaRecordBatchHeader, commits: Bool?)] {
        batches(in: records).filter(\.complete).map { batch in
            guard batch.header.isControl else { return (batch.header, nil) }
            // A control record's key: version (int16), then type (int16: 0 abort, 1 commit).
            var reader = KafkaWireReader(records, position: batch.recordsStart)
            guard (try? reader.varint()) != nil, (try? reader.skip(1)) != nil, (try? reader.varint()) != nil, (try? reader.varint()) != nil,
                let key = try? reader.varintBytes(), key.count >= 4
            else { return (batch.header, nil) }
            return (batch.header, key[3] == 1 && key[2] == 0)
        }
    }

    /// The last transactional data batch (not a control batch) in `records`, and the value of the
    /// header `name` of its last record that has one — `nil` for the value when the batch is
    /// compressed, cut short, or no record has the header.
    package static func lastTransactionalBatch(in records: [UInt8], header name: String) -> (header: KafkaRecordBatchHeader, value: [UInt8]?)? {
        guard let last = batches(in: records).last(where: { $0.header.isTransactional && !$0.header.isControl && $0.header.producerID >= 0 }) else {
            return nil
        }
        guard last.complete, last.header.attributes & 0x07 == 0 else { return (last.header, nil) }
        var reader = KafkaWireReader(records, position: last.recordsStart)
        var found: [UInt8]?
        do {
            for _ in 0..<last.header.recordCount {
                _ = try reader.varint()  // length
                try reader.skip(1)  // attributes
                _ = try reader.varint()  // timestamp delta
                _ = try reader.varint()  // offset delta
                _ = try reader.varintBytes()  // key
                _ = try reader.varintBytes()  // value
                for _ in 0..<(try reader.varint()) {
                    let key = try reader.varintBytes() ?? []
                    let value = try reader.varintBytes()
                    if key.elementsEqual(name.utf8) { found = value }
                }
            }
        } catch {
            return (last.header, nil)
        }
        return (last.header, found)
    }

    private static func read(_ reader: inout KafkaWireReader) throws -> (value: KafkaRecordBatchHeader, batchLength: Int32) {
        let baseOffset = try reader.int64()
        let batchLength = try reader.int32()
        try reader.skip(4)  // partition leader epoch
        guard try reader.int8() == 2 else { throw KafkaWireReader.Truncated() }
        try reader.skip(4)  // crc
        let attributes = try reader.int16()
        let lastOffsetDelta = try reader.int32()
        try reader.skip(16)  // base and max timestamp
        let header = KafkaRecordBatchHeader(
            baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, attributes: attributes,
            producerID: try reader.int64(), producerEpoch: try reader.int16(), baseSequence: try reader.int32(),
            recordCount: try reader.int32()
        )
        return (header, batchLength)
    }
}
