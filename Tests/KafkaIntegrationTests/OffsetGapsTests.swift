import Kafka
import Testing
import TestSupport

/// The local broker's quirks as the runtime and the load test handle them, against the real broker.
/// `KafkaOffsetGaps`: what a consumer skips between two committed records is the first transaction's
/// marker, which explains the gap; a gap over a record, or over offsets not stored yet, is a hole.
/// `KafkaAbortedRecords`: the records of an aborted transaction, told apart by its marker.
@Suite(.serialized) struct OffsetGapsTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func markersExplainAGapRecordsAndUnstoredOffsetsMakeAHole() async throws {
        let partition = KafkaTopicPartition(topic: try await stack.freshTopic("gaps"), partition: 0)
        let producer = try KafkaTransactionalProducer(configuration: stack.producerConfiguration(), transactionalID: uniqueName("tid"), logger: stack.logger)
        try await producer.initTransactions()
        for index in 0..<2 {
            try await producer.withTransaction { txn in
                try await txn.produce(KafkaProducerMessage(topic: partition.topic, partition: 0, key: "k\(index)", value: "\(index)"))
            }
        }
        try await producer.close()
        // Where the records and markers landed, as the broker stored them.
        let stored = try await KafkaWireClient.with(servers: stack.bootstrapServers, timeout: .seconds(5)) { wire in
            try wire.fetch(partition, from: 0)
        }
        let records = stored.batches.filter { !$0.isControl }.map(\.baseOffset)
        let markers = stored.batches.filter(\.isControl).map(\.baseOffset)
        try #require(records.count == 2 && markers.count >= 1, "stored: \(stored.batches)")
        let (first, second) = (records[0], records[1])
        #expect(markers.contains { $0 > first && $0 < second })

        let gaps = KafkaOffsetGaps(bootstrapServers: stack.bootstrapServers)
        let betweenRecords = KafkaOffsetGaps.Gap(partition, from: first + 1, to: second)
        let overARecord = KafkaOffsetGaps.Gap(partition, from: first, to: second)
        let pastTheEnd = KafkaOffsetGaps.Gap(partition, from: stored.highWatermark, to: stored.highWatermark + 2)
        #expect(await gaps.holes(among: [betweenRecords]) == [])
        #expect(await gaps.holes(among: [betweenRecords, overARecord, pastTheEnd]) == [overARecord, pastTheEnd])
    }

    @Test func theRecordsOfAnAbortedTransactionAreToldApartByItsMarker() async throws {
        let partition = KafkaTopicPartition(topic: try await stack.freshTopic("aborted"), partition: 0)
        let producer = try KafkaTransactionalProducer(configuration: stack.producerConfiguration(), transactionalID: uniqueName("tid"), logger: stack.logger)
        try await producer.initTransactions()
        for (index, commits) in [true, false, true].enumerated() {
            try producer.beginTransaction()
            _ = try await producer.send(KafkaProducerMessage(topic: partition.topic, partition: 0, key: "k\(index)", value: "\(index)"))
            if commits { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
        }
        try await producer.close()
        let stored = try await KafkaWireClient.with(servers: stack.bootstrapServers, timeout: .seconds(5)) { wire in
            try wire.fetch(partition, from: 0).batches.filter { !$0.isControl }.map(\.baseOffset)
        }
        try #require(stored.count == 3, "data batches at \(stored)")

        let aborted = try await KafkaAbortedRecords.read([partition], bootstrapServers: stack.bootstrapServers)
        #expect(stored.map { aborted.contains(partition, offset: $0) } == [false, true, false])
    }
}
