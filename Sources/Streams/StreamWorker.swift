import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a `StreamRole` as a long-lived consumer-group member: consume → handle → produce, with the
/// outputs, the state changes, the dead letters and the consumed offsets of a round of records in one
/// Kafka transaction of the worker's own producer (see `Docs/WorkerRuntime.md`).
///
/// Records are handled as they are polled and their outputs produced at once into the open
/// transaction (a round). A round is committed as soon as the fetched records are drained, or after
/// `commitInterval`, or at `batchSize` records; while its commit is out the next round is handled,
/// and its outputs wait until the commit has returned. A commit that fails, or whose outcome is
/// unknown, drops the round's partitions (and their share of the next round), which are prepared
/// again from their changelogs, and the producer is replaced. On assignment a partition stays paused
/// until whoever wrote it last has been fenced (its open transaction ended) and its state restored;
/// the consumer keeps polling meanwhile. On graceful shutdown the open round is committed.
public final class StreamWorker<Role: StreamRole>: Service {
    public let role: Role
    public let configuration: StreamConfiguration
    let logger: Logger
    let health: WorkerHealth
    let processor: BatchProcessor<Role>
    let metrics: StreamMetrics
    let rebalances = RebalanceLog()
    let retirements = ProducerRetirements()
    /// This worker's transactional id: its own, never another process's (`StreamConfiguration.transactionalID`).
    let transactionalID: String

    public init(role: Role, configuration: StreamConfiguration, logger: Logger, health: WorkerHealth = WorkerHealth()) {
        self.role = role
        self.configuration = configuration
        transactionalID = configuration.transactionalID(role: role.name, token: String(UInt32.random(in: 0...UInt32.max), radix: 16))
        var logger = logger
        logger[metadataKey: "souk.role"] = .string(role.name)
        logger[metadataKey: "souk.instance"] = .stringConvertible(configuration.instance)
        self.logger = logger
        self.health = health
        processor = BatchProcessor(
            role: role,
            dedupeWindow: configuration.dedupeWindow,
            maxMessageBytes: configuration.maxMessageBytes,
            maxStateBytes: configuration.maxStateBytes,
            retryPolicy: configuration.retryPolicy,
            writer: configuration.exactlyOnce ? transactionalID : nil
        )
        metrics = StreamMetrics(role: role.name)
    }

    var healthName: String { "\(role.name)-\(configuration.instance)" }

    /// The loop's view of its partitions and of the rounds it fills and commits. Used by the loop only.
    final class Owned {
        var store = StateStore<Role.State>()
        var owners: [Int32: PartitionOwner] = [:]
        var nextToken = 0
        /// Ready means: the group gave this worker its (possibly empty) share.
        var joined = false
        var pollBreaches = 0
        var lastStuckCheck = ContinuousClock.now
        /// Inputs whose outputs failed for good, per partition: dead-lettered when handled again. They
        /// outlive the partition's re-preparation.
        var poisoned: [Int32: [RecordPosition: String]] = [:]
        /// The round being filled, per partition.
        var open: [Int32: PartitionRound] = [:]
        var openSince: ContinuousClock.Instant?
        /// The worker's transactional producer (nil while it is being replaced, and at least once).
        var producer: KafkaTransactionalProducer?
        /// Whether its transaction is open (begun for the round being filled).
        var inTransaction = false
        /// Per record produced into the open transaction (by tag), the input it came from.
        var origins: [RecordPosition?] = []
        /// The round being committed.
        var flight: CommitFlight?
        /// The last commit, until the group is seen to show its offsets (`StreamConfiguration.confirmCommits`),
        /// and whether it was the marker that closes an idle spell.
        var lastCommit: (offsets: [KafkaTopicPartition: Int64], at: ContinuousClock.Instant, closing: Bool)?
        /// Inputs paused while the open round is full and a commit is out.
        var heldBack: [KafkaTopicPartition] = []
        /// Snapshots taken as their round closed, saved once its commit has returned.
        var snapshots: [Int32: StateSnapshots.Snapshot<Role.State>] = [:]
        /// Moved whenever a partition is sought or dropped: records of it read before then are stale.
        let epochBook = PartitionEpochs()
        var epochs: [Int32: Int] { epochBook.current }

        func bump(_ partition: Int32) { epochBook.bump([partition]) }

        var openRecords: Int { open.values.reduce(0) { $0 + $1.processed } }
    }

    /// What the loop works with besides its partitions.
    struct Context {
        let consumer: KafkaConsumer
        let atLeastOnce: KafkaProducer?
        let inbox: PreparedInbox<Role.State>
        /// Where a replacement producer is handed to the loop.
        let renewed: ProducerSlot
        let snapshotter: Snapshotter?
        let keepalive: Keepalive
        let jobs: BackgroundJobs
        /// Checks skipped offsets (`StreamConfiguration.verifyOffsetGaps`).
        let holes: KafkaOffsetGaps?
    }

    public func run() async throws {
        health.register(healthName, stallThreshold: configuration.stallThreshold, maxConsecutiveAborts: configuration.maxConsecutiveAborts)
        defer { health.markStopped(healthName) }
        // One admin connection for the worker's life: topics at start, snapshot offsets later.
        let admin = try KafkaAdminClient(bootstrapServers: configuration.bootstrapServers, logger: logger)
        if configuration.createTopics { try await ensureTopics(admin) }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: configuration.bootstrapServers,
                groupID: configuration.groupID(role: role.name),
                clientID: configuration.clientID(role: role.name),
                timings: configuration.timings,
                additional: configuration.consumerOverrides
            ),
            logger: logger,
            rebalanceListener: { [rebalances] event in rebalances.append(event) },
            pauseOnAssign: true
        )
        let atLeastOnce = configuration.exactlyOnce ? nil : try KafkaProducer(configuration: producerConfiguration, logger: logger)
        try await consumer.subscribe(topics: role.inputTopics)
        logger.info("worker started", metadata: ["kafka.topics": .string(role.inputTopics.joined(separator: ","))])

        let owned = Owned()
        let context = Context(
            consumer: consumer,
            atLeastOnce: atLeastOnce,
            inbox: PreparedInbox<Role.State>(),
            renewed: ProducerSlot(),
            snapshotter: configuration.stateDirectory.map {
                Snapshotter(snapshots: StateSnapshots(directory: $0), admin: admin, interval: configuration.snapshotInterval)
            },
            keepalive: Keepalive(consumer: consumer, grace: .milliseconds(300), epochs: owned.epochBook),
            jobs: BackgroundJobs(),
            holes: configuration.verifyOffsetGaps ? KafkaOffsetGaps(bootstrapServers: configuration.bootstrapServers) : nil
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                defer { tasks.cancelAll() }
                tasks.addTask { await context.jobs.run() }
                if configuration.exactlyOnce { renewProducer(owned, context) }
                var leftovers: [PolledChunk] = []
                let ahead = PollAhead(consumer: consumer, jobs: context.jobs, epochs: owned.epochBook)
                ahead.start(maxMessages: chunk, timeout: configuration.pollTimeout)
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    await takeRenewedProducer(owned, context)
                    try await land(owned, context)
                    if !rebalances.isEmpty, let flight = owned.flight {
                        // A revocation waits for the commit that is out: its partitions' transactions end first.
                        _ = try await context.keepalive.whilePolling(pausing: readyInputs(owned)) { await flight.waitLanded() }
                        try await land(owned, context)
                    }
                    // The next poll starts before these records are handled; it returns as soon as records
                    // are fetched, and a commit that returns meanwhile wakes it.
                    let taken = try await ahead.take()
                    ahead.start(maxMessages: chunk, timeout: configuration.pollTimeout)
                    let drained = leftovers.isEmpty && taken.messages.count < chunk
                    let polled = [taken] + leftovers
                    leftovers = []
                    applyRebalances(owned, context)
                    try await installPrepared(owned, context)
                    notePollBreaches(owned, context.consumer)
                    try await land(owned, context)
                    var records: [InboundRecord] = []
                    records.reserveCapacity(polled.reduce(0) { $0 + $1.messages.count })
                    let epochs = owned.epochs
                    for chunk in polled {
                        chunk.forEachCurrent(epochs, accept: { owned.owners[$0]?.isReady == true }) { records.append(InboundRecord($0)) }
                    }
                    if !records.isEmpty, let holes = context.holes {
                        try await readAgainPastHoles(&records, holes, owned, context)
                    }
                    if !records.isEmpty, configuration.mayHaveBeenAway(consumer) {
                        // Nothing would be committed: read the records again once the group has had its
                        // say, rather than handle and throw them away in a busy loop.
                        try await rewind(consumer, partitionsOf: records, owned)
                        records = []
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    if records.isEmpty {
                        if owned.flight == nil && owned.open.isEmpty {
                            await idleCommit(owned, context)
                            if owned.joined && !owned.owners.values.contains(where: { !$0.isReady }) { health.progressed(healthName) }
                        }
                    } else {
                        let (_, outcome) = try await context.keepalive.whilePolling(pausing: readyInputs(owned)) {
                            try await handle(records, owned, context)
                        }
                        leftovers = outcome.records.withLock { $0 }
                        let paused = outcome.paused.withLock { $0 }
                        if !paused.isEmpty {
                            applyRebalances(owned, context)
                            let stillReady = Set(readyInputs(owned)).subtracting(owned.heldBack)
                            try? await consumer.resume(paused.filter { stillReady.contains($0) })
                        }
                    }
                    if owned.flight == nil, owned.producer != nil || !configuration.exactlyOnce, !owned.open.isEmpty,
                        drained || owned.openRecords >= configuration.batchSize
                            || owned.openSince.map({ ContinuousClock.now - $0 >= configuration.commitInterval }) ?? false
                    {
                        try await launchFlight(owned, context)
                    }
                    try await holdBackWhileFull(owned, context)
                    checkStuck(owned)
                }
                try await finish(owned, context)
            }
        } catch {
            logger.error("worker stopped by error", metadata: ["error": "\(error)"])
            try? await consumer.close(leavingGroup: configuration.leaveGroupOnClose)
            await retireAll(owned)
            throw error
        }
        logger.info("worker shutting down")
        if let snapshotter = context.snapshotter {
            let generations = owned.owners.values.filter(\.isReady).reduce(into: [:]) { $0[$1.partition] = $1.version.generation }
            try? await snapshotter.snapshot(owned.store, generations: generations, worker: self)
        }
        try await consumer.close(leavingGroup: configuration.leaveGroupOnClose)
        await retireAll(owned)
        try? await atLeastOnce?.close(timeout: .seconds(5))
    }

    /// On graceful shutdown: the commit that is out returns, then the open round is committed. Once
    /// the task is cancelled (graceful shutdown ran out of time), nothing more is committed: the
    /// producer's retirement aborts what is open, and the records are read again by the next owner.
    private func finish(_ owned: Owned, _ context: Context) async throws {
        for _ in 0..<2 {
            if let flight = owned.flight {
                await flight.waitLanded()
                try Task.checkCancellation()
                try await land(owned, context)
            }
            await takeRenewedProducer(owned, context)
            // Without a producer (it was being replaced) the round is read again after the restart.
            guard !owned.open.isEmpty, owned.producer != nil || !configuration.exactlyOnce else { return }
            try await launchFlight(owned, context)
        }
    }

    /// Records per poll: never more than a round may hold.
    var chunk: Int { max(1, min(configuration.pollChunk, configuration.batchSize)) }

    /// Reads the partitions of `records` again from what was handled last: every input topic of
    /// each, not only those `records` came from, since the poll that is out may hold records of the
    /// others that are stale once the partition's epoch moves.
    func rewind(_ consumer: KafkaConsumer, partitionsOf records: some Collection<InboundRecord>, _ owned: Owned) async throws {
        let partitions = Set(records.map(\.partition))
        guard !partitions.isEmpty else { return }
        var positions: [KafkaTopicPartitionOffset] = []
        for partition in partitions.sorted() {
            let next = owned.owners[partition]?.next ?? [:]
            positions += inputs(partition).map { KafkaTopicPartitionOffset($0, offset: next[$0.topic].map(KafkaOffset.init) ?? .beginning) }
        }
        // The poll that is out returns first (the consumer's calls run in order); records of these
        // partitions read before the seek are stale once it is applied.
        consumer.wakeup()
        do {
            try await consumer.seek(positions, bumping: partitions, in: owned.epochBook)
        } catch let error as KafkaError where error.kind == .invalidState {
            // A partition the group has just taken away (the loop applies that next) cannot be sought;
            // the others were. Its next owner reads it from the committed offsets.
            logger.info("a rewound partition is being revoked", metadata: ["error": "\(error)"])
        }
    }

    func checkStuck(_ owned: Owned) {
        let now = ContinuousClock.now
        guard now - owned.lastStuckCheck >= .seconds(1) else { return }
        owned.lastStuckCheck = now
        let stuck = owned.owners.values.filter { $0.isStuck(threshold: configuration.stallThreshold, now: now) }.map(\.partition).sorted()
        health.setStuckPartitions(healthName, stuck)
        metrics.recordStuck(stuck.count)
    }

    private func notePollBreaches(_ owned: Owned, _ consumer: KafkaConsumer) {
        let breaches = consumer.pollIntervalBreaches
        if breaches > owned.pollBreaches {
            metrics.recordPollIntervalBreaches(breaches - owned.pollBreaches)
            owned.pollBreaches = breaches
        }
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

    var producerConfiguration: KafkaProducerConfiguration {
        KafkaProducerConfiguration(
            bootstrapServers: configuration.bootstrapServers,
            clientID: configuration.clientID(role: role.name),
            additional: configuration.producerOverrides
        )
    }
}

/// Runs blocking file I/O on a Dispatch thread, not on the cooperative pool.
func onBlockingQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
