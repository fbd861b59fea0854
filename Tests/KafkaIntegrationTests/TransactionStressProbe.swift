import Kafka
import Testing
import TestSupport
import Foundation

@Suite(.serialized) struct TransactionStressProbe {
    let stack: TestStack
    init() throws { stack = try TestStack.load() }

    func run(producers: Int, topics: Int, transactions: Int, perTxn: Int) async throws -> (Int, Int) {
        var collected: [String] = []
        for _ in 0..<topics { collected.append(try await stack.freshTopic("stress", partitions: 6)) }
        let names = collected
        let stack = self.stack
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<producers {
                group.addTask {
                    let producer = try KafkaTransactionalProducer(configuration: stack.producerConfiguration(), transactionalID: uniqueName("st\(p)"), logger: stack.logger)
                    try await producer.initTransactions()
                    for t in 0..<transactions {
                        try await producer.withTransaction { txn in
                            for i in 0..<perTxn {
                                try await txn.produce(KafkaProducerMessage(topic: names[(t + i) % names.count], partition: Int32(i % 6), key: nil, value: "\(p)-\(t)-\(i)"))
                            }
                        }
                    }
                    try await producer.close()
                }
            }
            try await group.waitForAll()
        }
        let expected = producers * transactions * perTxn
        let reader = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("reader")), logger: stack.logger)
        try await reader.assign(names.flatMap { n in (0..<6).map { KafkaTopicPartitionOffset(topic: n, partition: Int32($0), offset: .beginning) } })
        var count = 0
        let deadline = ContinuousClock.now + .seconds(6)
        while ContinuousClock.now < deadline && count < expected { count += try await reader.poll(maxMessages: 5000, timeout: .milliseconds(100)).count }
        return (count, expected)
    }

    @Test(arguments: [(1, 6, 100, 36), (4, 2, 100, 12), (4, 6, 60, 36)])
    func probe(_ shape: (Int, Int, Int, Int)) async throws {
        let (count, expected) = try await run(producers: shape.0, topics: shape.1, transactions: shape.2, perTxn: shape.3)
        print("PROBE producers=\(shape.0) topics=\(shape.1) txns=\(shape.2) perTxn=\(shape.3): read_committed \(count) of \(expected)")
        #expect(count >= expected)
    }
}
