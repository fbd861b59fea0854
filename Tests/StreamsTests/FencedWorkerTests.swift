import Counting
import Kafka
import Logging
import Testing

@testable import Streams

/// On librdkafka's mock cluster: a worker whose commit is answered "fenced" stops with that fatal
/// error (so its supervisor restarts it) instead of carrying on.
@Suite struct FencedWorkerTests {
    @Test func aFencedCommitStopsTheWorkerWithAFatalError() async throws {
        var logger = Logger(label: "souk.test.fenced")
        logger.logLevel = .critical
        let cluster = try KafkaMockCluster(brokers: 1, logger: logger)
        let role = CountingRole(name: "fenced", inputTopic: "in", outputTopic: "out")
        for topic in ["in", "out", role.changelogTopic, role.deadLetterTopic] { try cluster.createTopic(topic, partitions: 1) }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        _ = try await producer.send(KafkaProducerMessage(topic: "in", key: "k", value: #"{"amount":1}"#))
        // 90 = PRODUCER_FENCED, as a newer worker in the same slot would cause.
        cluster.failNextRequests(.endTransaction, withErrorCodes: [90])
        let worker = StreamWorker(
            role: role,
            configuration: StreamConfiguration(bootstrapServers: cluster.bootstrapServers, createTopics: false),
            logger: logger
        )
        let run = Task { try await worker.run() }
        let outcome = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask { await run.result.map { _ in () } }
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            run.cancel()
            return first
        }
        let result = try #require(outcome, "the worker did not stop within 60 s")
        guard case .failure(let error) = result else {
            Issue.record("the worker stopped without an error")
            return
        }
        #expect((error as? KafkaError)?.kind == .fatal, "\(error)")
        try await producer.close()
    }
}
