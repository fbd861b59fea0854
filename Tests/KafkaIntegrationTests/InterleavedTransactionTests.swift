import Kafka
import Testing
import TestSupport

/// Transactions of several producers interleaved on one partition, with non-transactional
/// records between them. A read_committed reader must see every committed record.
@Suite(.serialized) struct InterleavedTransactionTests {
    let stack: TestStack
    init() throws { stack = try TestStack.load() }

    func producer(_ id: String) async throws -> KafkaTransactionalProducer {
        let producer = try KafkaTransactionalProducer(configuration: stack.producerConfiguration(), transactionalID: id, logger: stack.logger)
        try await producer.initTransactions()
        return producer
    }

    func committedCount(_ topic: String) async throws -> Int {
        let reader = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("reader")), logger: stack.logger)
        try await reader.assign([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: .beginning)])
        var count = 0
        let deadline = ContinuousClock.now + .seconds(4)
        while ContinuousClock.now < deadline { count += try await reader.poll(maxMessages: 1000, timeout: .milliseconds(100)).count }
        return count
    }

    @Test(arguments: ["AB-commit-A-first", "AB-commit-B-first", "A-plain-A", "A-abort-B"])
    func interleaved(_ scenario: String) async throws {
        let topic = try await stack.freshTopic("interleave")
        let a = try await producer(uniqueName("a")), b = try await producer(uniqueName("b"))
        let plain = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        func record(_ value: String) -> KafkaProducerMessage { KafkaProducerMessage(topic: topic, partition: 0, key: nil, value: value) }
        var expected = 0
        switch scenario {
        case "AB-commit-A-first", "AB-commit-B-first":
            try a.beginTransaction(); _ = try await a.send(record("a1"))
            try b.beginTransaction(); _ = try await b.send(record("b1"))
            _ = try await a.send(record("a2"))
            if scenario == "AB-commit-A-first" { try await a.commitTransaction(); try await b.commitTransaction() } else { try await b.commitTransaction(); try await a.commitTransaction() }
            expected = 3
        case "A-plain-A":
            try a.beginTransaction(); _ = try await a.send(record("a1"))
            _ = try await plain.send(record("p1"))
            _ = try await a.send(record("a2"))
            try await a.commitTransaction()
            expected = 3
        default:
            try a.beginTransaction(); _ = try await a.send(record("a1"))
            try b.beginTransaction(); _ = try await b.send(record("b1"))
            try await a.abortTransaction()
            try await b.commitTransaction()
            expected = 1
        }
        let after = try await producer(uniqueName("c"))
        try after.beginTransaction(); _ = try await after.send(record("c1")); try await after.commitTransaction()
        let count = try await committedCount(topic)
        #expect(count >= expected + 1, "\(scenario): read \(count)")
    }
}
