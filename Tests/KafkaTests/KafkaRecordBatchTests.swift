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
}
