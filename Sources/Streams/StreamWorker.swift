import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a `StreamRole` as a long-lived consumer-group member: consume → handle → produce, with the
/// outputs, the state changes, the dead letters and the consumed offsets in one Kafka transaction.
///
/// Fatal broker errors (fenced by a newer instance with the same slot) end `run()` with the error so
/// that the supervisor restarts the worker; on graceful shutdown the open batch is finished and
/// committed, then the worker stops (leaving its group unless `leaveGroupOnClose` is off).
public final class StreamWorker<Role: StreamRole>: Service {
    public let role: Role
    public let configuration: StreamConfiguration
    private let logger: Logger
    private let health: WorkerHealth
    private let processor: BatchProcessor<Role>
    private let metrics: StreamMetrics
    private let rebalances = RebalanceLog()

    public init(role: Role, configuration: StreamConfiguration, logger: Logger, health: WorkerHealth = WorkerHealth()) {
        self.role = role
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "souk.role"] = .string(role.name)
        logger[metadataKey: "souk.instance"] = .stringConvertible(configuration.instance)
        self.logger = logger
        self.health = health
        processor = BatchProcessor(
            role: role,
            dedupeWindow: configuration.dedupeWindow,
            maxMessageBytes: configuration.maxMessageBytes,
            retryPolicy: configuration.retryPolicy
        )
        metrics = StreamMetrics(role: role.name)
    }

    private var healthName: String { "\(role.name)-\(configuration.instance)" }

    public func run() async throws {
        health.register(healthName, stallThreshold: configuration.stallThreshold)
        defer { health.markStopped(healthName) }
        // One admin connection for the worker's life: topics at start, snapshot offsets later.
        let admin = try KafkaAdminClient(bootstrapServers: configuration.bootstrapServers, logger: logger)
        if configuration.createTopics { try await ensureTopics(admin) }
        var output = try await makeOutput()
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: configuration.bootstrapServers,
                groupID: configuration.groupID(role: role.name),
                clientID: configuration.transactionalID(role: role.name),
                timings: configuration.timings,
                additional: configuration.consumerOverrides
            ),
            logger: logger,
            rebalanceListener: { [rebalances] event in rebalances.append(event) }
        )
        try await consumer.subscribe(topics: role.inputTopics)
        logger.info("worker started", metadata: ["kafka.topics": .string(role.inputTopics.joined(separator: ","))])

        var owned = OwnedPartitions()
        let snapshotter = configuration.stateDirectory.map { Snapshotter(snapshots: StateSnapshots(directory: $0), admin: admin) }
        do {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let records = try await collectBatch(consumer, owned: &owned)
                try await restorePending(consumer, admin, owned: &owned)
                health.progressed(healthName)
                guard !records.isEmpty else { continue }
                let committed: Bool
                switch try await runBatch(records, store: &owned.store, carried: &owned.carried, consumer: consumer, output: output) {
                case .aborted: committed = false
                case .lost:
                    // A fresh producer with the same transactional id makes the coordinator abort what it
                    // still holds open, so that readers are not stuck behind it.
                    await output.close()
                    output = try await makeOutput()
                    committed = false
                case .committed: committed = true
                }
                if committed, let snapshotter {
                    try await snapshotter.snapshotDue(owned.store, partitions: Set(records.map(\.partition)), worker: self)
                }
                health.progressed(healthName)
            }
        } catch {
            logger.error("worker stopped by error", metadata: ["error": "\(error)"])
            try? await consumer.close(leavingGroup: configuration.leaveGroupOnClose)
            await output.close()
            throw error
        }
        logger.info("worker shutting down")
        if let snapshotter {
            try? await snapshotter.snapshot(owned.store, partitions: owned.store.ownedPartitions, worker: self)
        }
        try await consumer.close(leavingGroup: configuration.leaveGroupOnClose)
        await output.close()
    }

    // MARK: - Batches

    /// Polls until the batch is full, the commit interval since its first record passed, or nothing more
    /// is waiting. Applies rebalances between polls.
    private func collectBatch(_ consumer: KafkaConsumer, owned: inout OwnedPartitions) async throws -> [InboundRecord] {
        var records: [InboundRecord] = []
        var deadline: ContinuousClock.Instant?
        while records.count < configuration.batchSize {
            let timeout: Duration =
                if let deadline { min(.milliseconds(5), max(.zero, deadline - .now)) } else { .milliseconds(100) }
            let batch = try await consumer.pollBatch(maxMessages: configuration.batchSize - records.count, timeout: timeout)
            let revoked = applyRebalances(&owned)
            if !revoked.isEmpty { records.removeAll { revoked.contains($0.partition) } }
            records += batch.messages.map(InboundRecord.init)
            if batch.messages.isEmpty || !revoked.isEmpty { break }
            if deadline == nil { deadline = .now + configuration.commitInterval }
            if let deadline, ContinuousClock.now >= deadline { break }
        }
        return records
    }

    /// The loop's view of its partitions: their state, and those still to restore.
    private struct OwnedPartitions {
        var store = StateStore<Role.State>()
        var pendingRestore = Set<Int32>()
        /// Ready means: the group gave this worker its (possibly empty) share and its state is restored.
        var joined = false
        /// Offsets of batches that produced nothing, committed with the next transaction that does: the
        /// local broker never commits a transaction that only carries offsets.
        var carried: [KafkaTopicPartition: Int64] = [:]
    }

    /// Drops the state of revoked partitions and queues assigned ones for restore.
    /// - Returns: the partitions revoked.
    private func applyRebalances(_ owned: inout OwnedPartitions) -> Set<Int32> {
        let events = rebalances.drain()
        var revoked = Set<Int32>()
        for event in events {
            let partitions = Set(event.partitions.map(\.partition))
            switch event {
            case .assigned:
                owned.joined = true
                owned.pendingRestore.formUnion(partitions)
                logger.info("partitions assigned", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            case .revoked(_, let cooperative):
                // Eager revocation takes everything, even partitions listed only once per topic.
                let lost = cooperative ? partitions : owned.store.ownedPartitions.union(partitions).union(owned.pendingRestore)
                for partition in lost { owned.store.drop(partition: partition) }
                owned.carried = owned.carried.filter { !lost.contains($0.key.partition) }
                owned.pendingRestore.subtract(lost)
                revoked.formUnion(lost)
                logger.info("partitions revoked", metadata: ["kafka.partitions": "\(lost.sorted())"])
            }
        }
        return revoked
    }

    /// Restores newly assigned partitions from the changelog before any of their records is handled.
    private func restorePending(_ consumer: KafkaConsumer, _ admin: KafkaAdminClient, owned: inout OwnedPartitions) async throws {
        guard !owned.pendingRestore.isEmpty else {
            if owned.joined { health.markReady(healthName) }
            return
        }
        let partitions = owned.pendingRestore.sorted()
        let started = ContinuousClock.now
        let inputs = role.inputTopics.flatMap { topic in partitions.map { KafkaTopicPartition(topic: topic, partition: $0) } }
        let committed = try await consumer.committed(inputs)
        let restorer = ChangelogRestorer<Role.State>(
            changelogTopic: role.changelogTopic,
            bootstrapServers: configuration.bootstrapServers,
            logger: logger,
            timeout: .seconds(120),
            snapshots: configuration.stateDirectory.map(StateSnapshots.init),
            admin: admin
        )
        let restored = try await restorer.restore(partitions: partitions, committed: committed)
        var keys = 0
        for (partition, entries) in restored {
            owned.store.install(partition: partition, entries)
            keys += entries.count
        }
        owned.pendingRestore.subtract(partitions)
        let duration = ContinuousClock.now - started
        metrics.recordRestore(duration: duration, keys: keys)
        logger.info(
            "state restored",
            metadata: ["kafka.partitions": "\(partitions)", "souk.keys": "\(keys)", "souk.restore_ms": "\(duration.nanoseconds / 1_000_000)"]
        )
        health.markReady(healthName)
    }

    enum BatchResult {
        case committed
        /// Aborted: rolled back, to be reprocessed from the committed offsets.
        case aborted
        /// The commit succeeded for the client but its offsets never reached the group: rolled back
        /// like an abort, and the producer must be replaced.
        case lost
    }

    private func runBatch(
        _ records: [InboundRecord],
        store: inout StateStore<Role.State>,
        carried: inout [KafkaTopicPartition: Int64],
        consumer: KafkaConsumer,
        output: WorkerOutput
    ) async throws -> BatchResult {
        let started = ContinuousClock.now
        let outcome = try await processor.process(records, store: &store)
        let processed = ContinuousClock.now
        // Nothing to write (only duplicates, or records that change nothing): no transaction; their
        // offsets ride along with the next one. Reprocessing them after a crash changes nothing either.
        if case .transactional = output, outcome.messages.isEmpty {
            carried.merge(outcome.lastOffsets) { max($0, $1) }
            metrics.recordBatch(outcome, records: records, duration: .now - started, committed: true)
            return .committed
        }
        let lastOffsets = carried.merging(outcome.lastOffsets) { max($0, $1) }
        do {
            try await output.write(outcome.messages, lastOffsets: lastOffsets, consumer: consumer)
            if logger.logLevel <= .trace {
                logger.trace(
                    "batch committed",
                    metadata: [
                        "souk.records": "\(records.count)", "souk.messages": "\(outcome.messages.count)",
                        "souk.process_us": "\((processed - started).nanoseconds / 1000)",
                        "souk.write_us": "\((ContinuousClock.now - processed).nanoseconds / 1000)",
                    ]
                )
            }
            if case .transactional = output, configuration.verifyCommits, !(try await commitLanded(consumer, lastOffsets)) {
                outcome.rollBack(&store)
                metrics.recordBatch(outcome, records: records, duration: .now - started, committed: false)
                logger.error("a committed transaction did not reach the group's offsets; replacing the producer and reprocessing")
                try await rewind(consumer, partitions: Array(outcome.lastOffsets.keys))
                return .lost
            }
            carried = [:]
            metrics.recordBatch(outcome, records: records, duration: .now - started, committed: true)
            for (partition, offset) in outcome.lastOffsets {
                if let high = consumer.cachedHighWatermark(partition) { metrics.recordLag(partition, lag: max(0, high - offset - 1)) }
            }
            return .committed
        } catch let error as KafkaError where error.kind != .fatal {
            // Abort path: forget the batch's state changes and re-read from the committed offsets.
            outcome.rollBack(&store)
            metrics.recordBatch(outcome, records: records, duration: .now - started, committed: false)
            logger.warning("batch aborted; reprocessing from committed offsets", metadata: ["kafka.error": "\(error)"])
            try await rewind(consumer, partitions: Array(outcome.lastOffsets.keys))
            return .aborted
        }
    }

    /// Whether the group's committed offsets reached the batch's end. The transaction's offsets become
    /// visible shortly after the commit returns, so this waits a little before it says no.
    private func commitLanded(_ consumer: KafkaConsumer, _ lastOffsets: [KafkaTopicPartition: Int64]) async throws -> Bool {
        let deadline = ContinuousClock.now + configuration.commitVerificationTimeout
        while true {
            let committed = try await consumer.committed(Array(lastOffsets.keys))
            if lastOffsets.allSatisfy({ (committed[$0.key] ?? -1) > $0.value }) { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func rewind(_ consumer: KafkaConsumer, partitions: [KafkaTopicPartition]) async throws {
        let committed = try await consumer.committed(partitions)
        let positions = partitions.map { KafkaTopicPartitionOffset($0, offset: committed[$0].map(KafkaOffset.init) ?? .beginning) }
        try await consumer.seek(positions)
    }

    // MARK: - Set-up

    private func ensureTopics(_ admin: KafkaAdminClient) async throws {
        var partitions = 1
        for topic in role.inputTopics {
            guard let description = try await admin.describeTopic(topic) else {
                throw KafkaError(kind: .failed, codeName: "UNKNOWN_TOPIC_OR_PART", message: "input topic '\(topic)' does not exist (run `souk topics apply`)")
            }
            partitions = max(partitions, description.partitions)
        }
        try await admin.createTopics([
            KafkaNewTopic(name: role.changelogTopic, partitions: partitions, configs: ["cleanup.policy": "compact"]),
            KafkaNewTopic(name: role.deadLetterTopic, partitions: 1),
        ])
    }

    private func makeOutput() async throws -> WorkerOutput {
        let producerConfiguration = KafkaProducerConfiguration(
            bootstrapServers: configuration.bootstrapServers,
            clientID: configuration.transactionalID(role: role.name),
            additional: configuration.producerOverrides
        )
        if configuration.exactlyOnce {
            let producer = try KafkaTransactionalProducer(
                configuration: producerConfiguration,
                transactionalID: configuration.transactionalID(role: role.name),
                logger: logger
            )
            try await retryingRetriable { try await producer.initTransactions() }
            return .transactional(producer)
        }
        return .atLeastOnce(try KafkaProducer(configuration: producerConfiguration, logger: logger))
    }

    private func retryingRetriable(_ body: () async throws -> Void) async throws {
        for attempt in 1... {
            do {
                return try await body()
            } catch let error as KafkaError where error.kind == .retriable && attempt < 10 {
                logger.info("retrying", metadata: ["kafka.error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}

/// Where a worker's batch goes: one transaction, or produce-then-commit without one.
enum WorkerOutput: Sendable {
    case transactional(KafkaTransactionalProducer)
    case atLeastOnce(KafkaProducer)

    func write(_ messages: [KafkaProducerMessage], lastOffsets: [KafkaTopicPartition: Int64], consumer: KafkaConsumer) async throws {
        switch self {
        case .transactional(let producer):
            let metadata = try consumer.groupMetadata()
            try await producer.withTransaction { txn in
                for message in messages { try await txn.produce(message) }
                try await txn.sendOffsets(lastProcessed: lastOffsets, groupMetadata: metadata)
            }
        case .atLeastOnce(let producer):
            for message in messages { try await producer.produce(message) }
            try await producer.flush()
            try await consumer.commit(lastProcessed: lastOffsets)
        }
    }

    func close() async {
        switch self {
        case .transactional(let producer): try? await producer.close(timeout: .seconds(5))
        case .atLeastOnce(let producer): try? await producer.close(timeout: .seconds(5))
        }
    }
}

/// Rebalance events reported inside `poll`, handed to the worker loop after it returns.
public final class RebalanceLog: Sendable {
    public init() {}

    private let events = Mutex<[KafkaRebalanceEvent]>([])

    public func append(_ event: KafkaRebalanceEvent) {
        events.withLock { $0.append(event) }
    }

    public func drain() -> [KafkaRebalanceEvent] {
        events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }
}

extension StreamWorker {
    /// Takes local snapshots of committed partition state, at most once per interval per partition.
    final class Snapshotter: @unchecked Sendable {
        // @unchecked: used from the worker loop only.
        let snapshots: StateSnapshots
        private var lastTaken: [Int32: ContinuousClock.Instant] = [:]
        private let admin: KafkaAdminClient

        init(snapshots: StateSnapshots, admin: KafkaAdminClient) {
            self.snapshots = snapshots
            self.admin = admin
        }

        func snapshotDue(_ store: StateStore<Role.State>, partitions: Set<Int32>, worker: StreamWorker) async throws {
            let now = ContinuousClock.now
            let due = partitions.filter { partition in
                // The first commit after (re)assignment only starts the clock.
                guard let last = lastTaken[partition] else {
                    lastTaken[partition] = now
                    return false
                }
                return now - last >= worker.configuration.snapshotInterval
            }
            if !due.isEmpty { try await snapshot(store, partitions: due, worker: worker) }
        }

        /// Must run right after a commit (or with no transaction open): the state is then committed.
        func snapshot(_ store: StateStore<Role.State>, partitions: Set<Int32>, worker: StreamWorker) async throws {
            for partition in partitions.sorted() {
                let changelog = KafkaTopicPartition(topic: worker.role.changelogTopic, partition: partition)
                let offset = try await admin.watermarks(changelog).high
                let snapshot = StateSnapshots.Snapshot(changelogOffset: offset, entries: store.entries(partition: partition))
                let snapshots = self.snapshots
                try await onBlockingQueue { try snapshots.save(snapshot, changelog.topic, partition: partition) }
                lastTaken[partition] = .now
            }
        }
    }
}

/// Runs blocking file I/O on a Dispatch thread, not on the cooperative pool.
func onBlockingQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
