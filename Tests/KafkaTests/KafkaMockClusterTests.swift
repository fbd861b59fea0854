import Kafka
import Logging
import Testing

/// The transactional producer's three error classes, provoked on librdkafka's mock cluster.
@Suite(.serialized) struct KafkaMockClusterTests {
    let logger: Logger = {
        var logger = Logger(label: "souk.test.mock")
        logger.logLevel = .critical
        return logger
    }()

    func makeProducer(_ cluster: KafkaMockCluster, topic: String, timeout: Duration = .seconds(10)) async throws
        -> KafkaTransactionalProducer
    {
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaTransactionalProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers),
            transactionalID: "txn-\(topic)",
            operationTimeout: timeout,
            logger: logger
        )
        try await producer.initTransactions()
        return producer
    }

    func message(_ topic: String, _ value: String) -> KafkaProducerMessage {
        KafkaProducerMessage(topic: topic, key: "k", value: value)
    }

    @Test func healthyTransactionCommits() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try await makeProducer(cluster, topic: "healthy")
        try await producer.withTransaction { txn in try await txn.produce(message("healthy", "ok")) }
        #expect(producer.fatalError == nil)
    }

    @Test func slowCommitIsRetriableAndSucceedsOnRetry() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try await makeProducer(cluster, topic: "slow", timeout: .milliseconds(500))
        try producer.beginTransaction()
        try await producer.produce(message("slow", "v"))
        try cluster.setRoundTripTime(.seconds(2))
        let error = await #expect(throws: KafkaError.self) { try await producer.commitTransaction() }
        #expect(error?.kind == .retriable)
        try cluster.setRoundTripTime(.zero)
        // The documented path for a retriable error: call again.
        try await eventually { try await producer.commitTransaction() }
        #expect(producer.fatalError == nil)
    }

    @Test func failedProduceRequiresAbortAndTheProducerGoesOn() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try await makeProducer(cluster, topic: "abortable")
        // 29 = TOPIC_AUTHORIZATION_FAILED: not retriable, fails the transaction but not the producer.
        cluster.failNextRequests(.produce, withErrorCodes: [29])
        let error = await #expect(throws: KafkaError.self) {
            try await producer.withTransaction { txn in try await txn.produce(message("abortable", "lost")) }
        }
        #expect(error?.kind == .abortable)
        #expect(producer.fatalError == nil)
        // withTransaction aborted it: the next transaction starts cleanly. (The mock now reports the
        // "unauthorized" topic as gone, so the retry writes elsewhere.)
        try cluster.createTopic("abortable-retry", partitions: 1)
        try await producer.withTransaction { txn in try await txn.produce(message("abortable-retry", "again")) }
    }

    /// On the local broker a produce request that lands after the next producer of the id ended its
    /// epoch wedges the id for good; so a discarded producer waits for what it has in flight rather
    /// than voiding it and leaving it on the wire.
    @Test func discardingWaitsForARecordInFlight() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try await makeProducer(cluster, topic: "retiring")
        try producer.beginTransaction()
        try cluster.setRoundTripTime(.milliseconds(300))
        cluster.startTrackingRequests()
        try await producer.produce(message("retiring", "in flight"), tag: 0)
        let deadline = ContinuousClock.now + .seconds(10)
        while cluster.receivedRequests(.produce) == 0 {
            try #require(ContinuousClock.now < deadline, "the record never left")
            try await Task.sleep(for: .milliseconds(5))
        }
        await producer.discard()
        #expect(producer.unacknowledgedRecords == 0)
        #expect(producer.takeFailedDeliveries().isEmpty, "the record was answered, not purged")
    }

    @Test func fencedProducerGetsAFatalError() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try await makeProducer(cluster, topic: "fenced")
        // 90 = PRODUCER_FENCED on EndTxn: a newer producer took over the transactional id.
        cluster.failNextRequests(.endTransaction, withErrorCodes: [90])
        let error = await #expect(throws: KafkaError.self) {
            try await producer.withTransaction { txn in try await txn.produce(message("fenced", "zombie")) }
        }
        #expect(error?.kind == .fatal)
        #expect(producer.fatalError?.kind == .fatal)
        // A fatal producer refuses further transactions.
        #expect(throws: KafkaError.self) { try producer.beginTransaction() }
    }
}

/// Retries a retriable call until it succeeds (bounded).
func eventually(attempts: Int = 20, _ body: () async throws -> Void) async throws {
    for attempt in 1...attempts {
        do {
            return try await body()
        } catch let error as KafkaError where error.kind == .retriable && attempt < attempts {
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
