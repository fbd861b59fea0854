/// Encodes a v2 record batch of uncompressed records, for requests made with `KafkaWireClient`
/// (the tests use it to reproduce, byte for byte, a produce request that arrives late).
package enum KafkaRecordBatchEncoder {
    package struct Record {
        package var key: [UInt8]?
        package var value: [UInt8]?
        package var headers: [(key: String, value: [UInt8]?)]

        package init(key: [UInt8]?, value: [UInt8]?, headers: [(key: String, value: [UInt8]?)] = []) {
            self.key = key
            self.value = value
            self.headers = headers
        }
    }

    package static func batch(
        _ records: [Record], producerID: Int64, epoch: Int16, baseSequence: Int32,
        transactional: Bool, timestamp: Int64
    ) -> [UInt8] {
        var body = KafkaWireWriter()  // from attributes on: the part the CRC covers
        body.int16(transactional ? 0x10 : 0)
        body.int32(Int32(records.count - 1))
        body.int64(timestamp)
        body.int64(timestamp)
        body.int64(producerID)
        body.int16(epoch)
        body.int32(baseSequence)
        body.int32(Int32(records.count))
        for (index, record) in records.enumerated() {
            var encoded = KafkaWireWriter()
            encoded.int8(0)  // attributes
            encoded.varint(0)  // timestamp delta
            encoded.varint(Int64(index))
            for field in [record.key, record.value] {
                encoded.varint(Int64(field?.count ?? -1))
                encoded.raw(field ?? [])
            }
            encoded.varint(Int64(record.headers.count))
            for header in record.headers {
                encoded.varint(Int64(header.key.utf8.count))
                encoded.raw(Array(header.key.utf8))
                encoded.varint(Int64(header.value?.count ?? -1))
                encoded.raw(header.value ?? [])
            }
            body.varint(Int64(encoded.bytes.count))
            body.raw(encoded.bytes)
        }
        var batch = KafkaWireWriter()
        batch.int64(0)  // base offset: the broker assigns it
        batch.int32(Int32(4 + 1 + 4 + body.bytes.count))  // leader epoch, magic, crc, then the body
        batch.int32(-1)
        batch.int8(2)
        batch.int32(Int32(bitPattern: CRC32C.checksum(body.bytes)))
        batch.raw(body.bytes)
        return batch.bytes
    }
}
