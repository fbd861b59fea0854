import Counting
import Kafka
import Logging
import Testing

@testable import Streams

/// On librdkafka's mock cluster: a worker whose commit is answered "fenced" (another owner took the
/// partition's transactional id) gives the partition up and prepares it again, instead of stopping
/// the whole worker or carrying on with a dead producer; the record is counted in the end.
@Suite struct FencedWorkerTests {
    @Test func aFencedCommitDropsThePartitionAndTheWorkerGoesOn() async throws {
        var logger = Logger(label: "souk.test.fenced")
        logger.logLevel = .critical
        let cluster = try KafkaMockCluster(brokers: 1, logger: logger)
        let role = CountingRole(name: "fenced", inputTopic: "in", outputTopic: "out")
        for topic in ["in", "out", role.changelogTopic, role.deadLetterTopic] { try cluster.createTopic(topic, partitions: 1) }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        let health = WorkerHealth()
        let worker = StreamWorker(
            role: role,
            configuration: StreamConfiguration(
                bootstrapServers: cluster.bootstrapServers,
                timings: KafkaConsumerTimings(sessionTimeout: .seconds(6), heartbeatInterval: .seconds(1)),
                createTopics: false,
                confirmCommits: false  // the mock cluster never applies a transaction's offsets
            ),
            logger: logger,
            health: health
        )
        let reader = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "fenced-reader"),
            logger: logger
        )
        try await reader.assign([KafkaTopicPartitionOffset(topic: "out", partition: 0, offset: .beginning)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            // Once the partition is ready (its sweep transaction done), the next EndTxn is the batch's.
            let ready = ContinuousClock.now + .seconds(30)
            while !health.isReady && ContinuousClock.now < ready { try await Task.sleep(for: .milliseconds(50)) }
            try #require(health.isReady, "the worker got its partition")
            // 90 = PRODUCER_FENCED, as a newer owner of the partition's transactional id would cause.
            cluster.failNextRequests(.endTransaction, withErrorCodes: [90])
            _ = try await producer.send(KafkaProducerMessage(topic: "in", key: "k", value: #"{"amount":1}"#))
            let deadline = ContinuousClock.now + .seconds(60)
            var outputs = 0
            // The mock cluster delivers aborted records too: wait for a second copy, the one the
            // re-prepared partition commits after the fenced attempt.
            while outputs < 2 && ContinuousClock.now < deadline {
                outputs += try await reader.poll(maxMessages: 10, timeout: .milliseconds(200)).count
            }
            #expect(outputs >= 2, "the partition was prepared again and its record processed")
            #expect(health.isLive, "one fenced partition does not stop the worker")
            group.cancelAll()
        }
        try await producer.close()
    }
}
