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
        var headers: [KafkaRecordBatchHeader] = []
        var reader = KafkaWireReader(records)
        while reader.remaining >= 61 {
            let start = reader.position
            guard let header = try? read(&reader), header.batchLength >= 49 else { break }
            headers.append(header.value)
            let next = start + 12 + Int(header.batchLength)
            guard next <= records.count else { break }
            reader = KafkaWireReader(records, position: next)
        }
        return headers
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
