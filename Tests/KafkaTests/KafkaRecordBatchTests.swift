import Kafka
import Testing

/// The record batch v2 head that `KafkaEpochRepair` reads, and the encoding its test produces with.
struct KafkaRecordBatchTests {
    @Test func crc32cMatchesTheCastagnoliCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func anEncodedBatchReadsBackItsProducerAndAttributes() {
        let records = [KafkaRecordBatchEncoder.Record(key: Array("k".utf8), value: nil), .init(key: nil, value: Array("v".utf8))]
        let first = KafkaRecordBatchEncoder.batch(records, producerID: 42, epoch: 7, baseSequence: -1, transactional: true, timestamp: 1)
        let second = KafkaRecordBatchEncoder.batch(records, producerID: 43, epoch: 0, baseSequence: 3, transactional: false, timestamp: 1)
        let headers = KafkaRecordBatchHeader.headers(in: first + second)
        #expect(headers.count == 2)
        #expect(headers.map(\.producerID) == [42, 43])
        #expect(headers.map(\.producerEpoch) == [7, 0])
        #expect(headers.map(\.isTransactional) == [true, false])
        #expect(headers.map(\.isControl) == [false, false])
        #expect(headers.map(\.lastOffsetDelta) == [1, 1])
        #expect(headers.map(\.baseSequence) == [-1, 3])
    }

    @Test func aBatchCutShortKeepsItsHeadAndGarbageEndsTheList() {
        let batch = KafkaRecordBatchEncoder.batch([.init(key: nil, value: Array(repeating: 1, count: 100))], producerID: 5, epoch: 1, baseSequence: 0, transactional: true, timestamp: 0)
        #expect(KafkaRecordBatchHeader.headers(in: Array(batch.prefix(70))).map(\.producerID) == [5])
        #expect(KafkaRecordBatchHeader.headers(in: Array(batch.prefix(40))).isEmpty)
        var wrongMagic = batch
        wrongMagic[16] = 1
        #expect(KafkaRecordBatchHeader.headers(in: wrongMagic).isEmpty)
    }

    @Test func theLastTransactionalBatchNamesItsWriterFromTheLastRecordThatCarriesTheHeader() {
        let writer: [(key: String, value: [UInt8]?)] = [(key: "souk_writer", value: Array("souk-inventory-0-1a2b".utf8))]
        let earlier = KafkaRecordBatchEncoder.batch(
            [.init(key: nil, value: nil, headers: [(key: "souk_writer", value: Array("before".utf8))])], producerID: 1, epoch: 0, baseSequence: 0,
            transactional: true, timestamp: 0
        )
        let last = KafkaRecordBatchEncoder.batch(
            [.init(key: Array("k".utf8), value: Array("v".utf8), headers: writer), .init(key: nil, value: [], headers: [(key: "other", value: nil)])],
            producerID: 7, epoch: 3, baseSequence: 0, transactional: true, timestamp: 0
        )
        let plain = KafkaRecordBatchEncoder.batch([.init(key: nil, value: nil)], producerID: 9, epoch: 0, baseSequence: 0, transactional: false, timestamp: 0)
        let found = KafkaRecordBatchHeader.lastTransactionalBatch(in: earlier + last + plain, header: "souk_writer")
        #expect(found?.header.producerID == 7)
        #expect(found?.header.producerEpoch == 3)
        #expect(found?.value == Array("souk-inventory-0-1a2b".utf8))
        // A batch without the header, or cut short, names no writer; no transactional batch at all is nothing.
        #expect(KafkaRecordBatchHeader.lastTransactionalBatch(in: earlier + last, header: "absent")?.value == nil)
        #expect(KafkaRecordBatchHeader.lastTransactionalBatch(in: earlier + Array(last.dropLast(3)), header: "souk_writer")?.value == nil)
        #expect(KafkaRecordBatchHeader.lastTransactionalBatch(in: plain, header: "souk_writer") == nil)
    }
}
