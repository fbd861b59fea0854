import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a `StreamRole` as a long-lived consumer-group member: consume → handle → produce, with the
/// outputs, the state changes, the dead letters and the consumed offsets of each input partition in
/// one Kafka transaction of that partition's own producer (see `Docs/WorkerRuntime.md`).
///
/// On assignment a partition stays paused until its producer has been initialised (fencing the
/// previous owner and ending its open transaction) and its state restored; the consumer keeps polling
/// meanwhile, and whenever a batch takes long. A commit that aborts is rolled back and reprocessed;
/// one whose outcome is unknown drops the partition, which is prepared again from its changelog. On
/// graceful shutdown the open batch is finished and committed, then the worker stops.
public final class StreamWorker<Role: StreamRole>: Service {
    public let role: Role
    public let configuration: StreamConfiguration
    private let logger: Logger
    private let health: WorkerHealth
    private let processor: BatchProcessor<Role>
    private let metrics: StreamMetrics
    private let rebalances = RebalanceLog()
    private let retirements = ProducerRetirements()

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
            maxStateBytes: configuration.maxStateBytes,
            retryPolicy: configuration.retryPolicy
        )
        metrics = StreamMetrics(role: role.name)
    }

    private var healthName: String { "\(role.name)-\(configuration.instance)" }

    /// The loop's view of its partitions.
    private final class Owned {
        var store = StateStore<Role.State>()
        var owners: [Int32: PartitionOwner] = [:]
        var nextToken = 0
        /// Ready means: the group gave this worker its (possibly empty) share.
        var joined = false
        var pollBreaches = 0
        var lastStuckCheck = ContinuousClock.now
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
        let inbox = PreparedInbox<Role.State>()
        let snapshotter = configuration.stateDirectory.map { Snapshotter(snapshots: StateSnapshots(directory: $0), admin: admin) }
        let keepalive = Keepalive(consumer: consumer, grace: .milliseconds(300))
        var leftovers: [KafkaConsumerMessage] = []
        do {
            try await withThrowingTaskGroup(of: Void.self) { preparations in
                defer { preparations.cancelAll() }
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    let polled = try await consumer.pollBatch(maxMessages: chunk, timeout: .milliseconds(100))
                    let messages = try await collect(leftovers + polled.messages, lastChunk: polled.messages.count, consumer: consumer)
                    leftovers = []
                    applyRebalances(owned, consumer: consumer, inbox: inbox, preparations: &preparations)
                    try await installPrepared(owned, inbox: inbox, consumer: consumer, snapshotter: snapshotter)
                    notePollBreaches(owned, consumer)
                    var records = messages.map(InboundRecord.init).filter { owned.owners[$0.partition]?.isReady == true }
                    if !records.isEmpty, configuration.mayHaveBeenAway(consumer) {
                        // Nothing would be committed: read the records again once the group has had its
                        // say, rather than handle and throw them away in a busy loop.
                        try await rewind(consumer, to: records)
                        records = []
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    if records.isEmpty {
                        try await commitDueCarries(owned, consumer: consumer, atLeastOnce: atLeastOnce, inbox: inbox, preparations: &preparations)
                        if owned.joined && !owned.owners.values.contains(where: { !$0.isReady }) { health.progressed(healthName) }
                        checkStuck(owned)
                        continue
                    }
                    let ready = readyInputs(owned)
                    let (_, outcome) = try await keepalive.whilePolling(pausing: ready) {
                        try await runBatch(records, owned, consumer: consumer, atLeastOnce: atLeastOnce, inbox: inbox, preparations: &preparations, snapshotter: snapshotter)
                    }
                    leftovers = outcome.records.withLock { $0 }
                    let paused = outcome.paused.withLock { $0 }
                    if !paused.isEmpty {
                        applyRebalances(owned, consumer: consumer, inbox: inbox, preparations: &preparations)
                        let stillReady = Set(readyInputs(owned))
                        try? await consumer.resume(paused.filter { stillReady.contains($0) })
                    }
                    checkStuck(owned)
                }
            }
        } catch {
            logger.error("worker stopped by error", metadata: ["error": "\(error)"])
            try? await consumer.close(leavingGroup: configuration.leaveGroupOnClose)
            await retireAll(owned)
            throw error
        }
        logger.info("worker shutting down")
        if let snapshotter {
            try? await snapshotter.snapshot(owned.store, partitions: Set(owned.owners.filter { $0.value.isReady }.keys), worker: self)
        }
        try await consumer.close(leavingGroup: configuration.leaveGroupOnClose)
        await retireAll(owned)
        try? await atLeastOnce?.close(timeout: .seconds(5))
    }

    /// Keeps taking what the consumer has already fetched while whole chunks keep coming, until
    /// `commitInterval` after the first record or `batchSize` records: a busy worker commits large
    /// transactions a few times a commit interval, a quiet one as soon as its fetched records are
    /// drained (one commit per hop).
    private func collect(_ first: [KafkaConsumerMessage], lastChunk: Int, consumer: KafkaConsumer) async throws -> [KafkaConsumerMessage] {
        var messages = first
        guard !messages.isEmpty else { return messages }
        let deadline = ContinuousClock.now + configuration.commitInterval
        var taken = lastChunk
        while taken >= chunk && messages.count < configuration.batchSize && ContinuousClock.now < deadline {
            let more = try await consumer.pollBatch(maxMessages: min(chunk, configuration.batchSize - messages.count), timeout: .zero)
            messages += more.messages
            taken = more.messages.count
            // A revocation is applied before anything is handled; records of partitions revoked without
            // an event (a failed rebalance clears the assignment) go too.
            if !more.revoked.isEmpty || !rebalances.isEmpty {
                messages.removeAll { more.revoked.contains($0.topicPartition) }
                break
            }
        }
        return messages
    }

    /// Records per poll: never more than a batch may hold.
    private var chunk: Int { max(1, min(configuration.pollChunk, configuration.batchSize)) }

    // MARK: - Partitions

    private func inputs(_ partition: Int32) -> [KafkaTopicPartition] {
        role.inputTopics.map { KafkaTopicPartition(topic: $0, partition: partition) }
    }

    private func readyInputs(_ owned: Owned) -> [KafkaTopicPartition] {
        owned.owners.values.filter(\.isReady).flatMap { inputs($0.partition) }
    }

    /// Drops the state of revoked partitions and starts preparing assigned ones.
    private func applyRebalances(
        _ owned: Owned,
        consumer: KafkaConsumer,
        inbox: PreparedInbox<Role.State>,
        preparations: inout ThrowingTaskGroup<Void, any Error>
    ) {
        for event in rebalances.drain() {
            let partitions = Set(event.partitions.map(\.partition))
            switch event {
            case .assigned:
                owned.joined = true
                for partition in partitions.sorted() {
                    startPreparing(partition, owned, consumer: consumer, inbox: inbox, preparations: &preparations)
                }
                logger.info("partitions assigned", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            case .revoked(_, let cooperative):
                // Eager revocation takes everything, even partitions listed only once per topic.
                let lost = cooperative ? partitions : Set(owned.owners.keys).union(partitions)
                for partition in lost { release(partition, owned, inbox: inbox) }
                logger.info("partitions revoked", metadata: ["kafka.partitions": "\(lost.sorted())"])
            }
        }
    }

    private func release(_ partition: Int32, _ owned: Owned, inbox: PreparedInbox<Role.State>) {
        inbox.wanted.withLock { _ = $0.removeValue(forKey: partition) }
        owned.store.drop(partition: partition)
        if let producer = owned.owners.removeValue(forKey: partition)?.producer {
            // The producer goes off the loop: it seals its epoch, and its requests in flight are waited
            // for before the id is initialised again.
            retire(producer, of: partition)
        }
    }

    /// Fences the partition's previous owner, then restores its state, in a child task; the inputs
    /// stay paused until `installPrepared` takes the result.
    private func startPreparing(
        _ partition: Int32,
        _ owned: Owned,
        consumer: KafkaConsumer,
        inbox: PreparedInbox<Role.State>,
        preparations: inout ThrowingTaskGroup<Void, any Error>,
        after delay: Duration = .zero
    ) {
        release(partition, owned, inbox: inbox)
        owned.nextToken += 1
        let token = owned.nextToken
        owned.owners[partition] = PartitionOwner(partition: partition, token: token)
        inbox.wanted.withLock { $0[partition] = token }
        health.markUnready(healthName)
        let inputs = inputs(partition)
        let configuration = self.configuration, role = self.role, logger = self.logger, health = self.health, name = healthName
        let transactionalID = configuration.transactionalID(role: role.name, partition: partition)
        let producerConfiguration = self.producerConfiguration, retirements = self.retirements, metrics = self.metrics
        preparations.addTask {
            if delay > .zero { try? await Task.sleep(for: delay) }
            var attempt = 0
            while !Task.isCancelled && inbox.isWanted(partition, token: token) {
                attempt += 1
                var producer: KafkaTransactionalProducer?
                do {
                    if configuration.exactlyOnce {
                        let fresh = try await Self.initialisedProducer(
                            producerConfiguration, transactionalID: transactionalID,
                            changelog: configuration.endPredecessorEpochs ? KafkaTopicPartition(topic: role.changelogTopic, partition: partition) : nil,
                            after: retirements, metrics: metrics, logger: logger
                        )
                        producer = fresh
                        try await Self.sweep(partition, with: fresh, role: role, bound: configuration.commitBound)
                    }
                    let committed = try await consumer.committed(inputs)
                    let restorer = ChangelogRestorer<Role.State>(
                        changelogTopic: role.changelogTopic,
                        bootstrapServers: configuration.bootstrapServers,
                        logger: logger,
                        timeout: .seconds(300),
                        snapshots: configuration.stateDirectory.map(StateSnapshots.init),
                        admin: nil
                    )
                    let restored = try await restorer.restorePartitions([partition], committed: committed) { _ in health.progressed(name) }
                    inbox.items.withLock {
                        $0.append(PreparedPartition(partition: partition, token: token, producer: producer, committed: committed, restored: restored[partition]!))
                    }
                    return
                } catch {
                    if let producer { await retirements.retireAll([(producer, Self.closingMarker(partition, role: role))]) }
                    if Task.isCancelled { return }
                    logger.warning(
                        "preparing a partition failed; retrying",
                        metadata: ["kafka.partition": "\(partition)", "souk.attempt": "\(attempt)", "error": "\(error)"]
                    )
                    try? await Task.sleep(for: .milliseconds(min(2_000, 100 * attempt)))
                }
            }
        }
    }

    /// Commits a transaction that touches only the partition's changelog, right after the producer was
    /// initialised. On the local broker a predecessor killed between its `EndTxn` and the transaction's
    /// completion leaves it prepared (initialising does not end a prepared transaction), and it completes
    /// only when an overlapping transaction ends; an idle new owner would never end one, and the
    /// prepared transaction would pin every partition it wrote to for all readers, for good. The sweep
    /// ends it (aborted by then if the repair in `initialisedProducer` ran, else as it was decided)
    /// before the committed offsets are read for the restore. On Apache Kafka it is one cheap
    /// transaction per assignment.
    private static func sweep(_ partition: Int32, with producer: KafkaTransactionalProducer, role: Role, bound: Duration) async throws {
        try await producer.begin()
        try await producer.produce(closingMarker(partition, role: role), tag: 0)
        switch await producer.commit(bound: bound) {
        case .committed: return
        case .aborted(let error), .unknown(let error), .fatal(let error): throw error
        }
    }

    /// A position marker without a position: the one record of a transaction that only ends what
    /// came before it (a sweep after initialising, a seal before giving a producer up).
    private static func closingMarker(_ partition: Int32, role: Role) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic, partition: partition, key: Array(ChangelogMarker.positionKey.utf8), value: [],
            headers: ChangelogSource(topic: role.inputTopics[0], offset: -1).headers
        )
    }

    private func retire(_ producer: KafkaTransactionalProducer, of partition: Int32) {
        retirements.retire(producer, sealingWith: Self.closingMarker(partition, role: role))
    }

    private func retireAll(_ owned: Owned) async {
        await retirements.retireAll(owned.owners.compactMap { partition, owner in
            owner.producer.map { ($0, Self.closingMarker(partition, role: role)) }
        })
    }

    /// Takes finished preparations: installs the state, seeks the inputs to the offsets it matches and
    /// resumes them.
    private func installPrepared(
        _ owned: Owned,
        inbox: PreparedInbox<Role.State>,
        consumer: KafkaConsumer,
        snapshotter: Snapshotter?
    ) async throws {
        let prepared = inbox.items.withLock { prepared in
            defer { prepared.removeAll() }
            return prepared
        }
        for item in prepared {
            guard let owner = owned.owners[item.partition], owner.token == item.token, !owner.isReady else {
                if let producer = item.producer { retire(producer, of: item.partition) }
                continue
            }
            owned.store.install(partition: item.partition, item.restored.entries, versions: item.restored.versions)
            owner.producer = item.producer
            owner.version = ChangelogVersion(generation: item.restored.generation + 1, sequence: 0)
            owner.rewrite = Set(item.restored.leftovers.map { ChangelogKey(partition: item.partition, key: $0) })
            owner.phase = .ready
            snapshotter?.forget(item.partition)
            snapshotter?.generations[item.partition] = owner.version.generation
            // Read from exactly the offsets the state matches (the group's reset policy is earliest).
            let positions = inputs(item.partition).map { input in
                KafkaTopicPartitionOffset(input, offset: item.committed[input].map(KafkaOffset.init) ?? .beginning)
            }
            do {
                if !positions.isEmpty { try await consumer.seek(positions) }
            } catch {
                logger.warning("seek after restore failed", metadata: ["kafka.partition": "\(item.partition)", "error": "\(error)"])
            }
            try? await consumer.resume(inputs(item.partition))
            metrics.recordRestore(keys: item.restored.entries.count)
            logger.info(
                "partition ready",
                metadata: [
                    "kafka.partition": "\(item.partition)", "souk.keys": "\(item.restored.entries.count)",
                    "souk.changelog_records": "\(item.restored.records)", "souk.generation": "\(owner.version.generation)",
                    "souk.rewrites": "\(owner.rewrite.count)",
                ]
            )
        }
        if owned.joined && !owned.owners.values.contains(where: { !$0.isReady }) { health.markReady(healthName) }
    }

    /// Drops a partition whose commit outcome is unknown (or that was fenced) and prepares it again:
    /// its state comes back from the changelog, never from a guess.
    private func reprepare(
        _ partition: Int32,
        _ owned: Owned,
        consumer: KafkaConsumer,
        inbox: PreparedInbox<Role.State>,
        preparations: inout ThrowingTaskGroup<Void, any Error>,
        after delay: Duration = .zero
    ) async {
        try? await consumer.pause(inputs(partition))
        let failingSince = owned.owners[partition]?.failingSince ?? .now
        startPreparing(partition, owned, consumer: consumer, inbox: inbox, preparations: &preparations, after: delay)
        owned.owners[partition]?.phase = .preparing(since: failingSince)
    }

    /// After a failed transaction call: a new producer under the same id, or, when that fails or this
    /// process may have been away past its session (a zombie that just woke), the partition prepared
    /// again once the group has had time to say whether it is still ours — initialising the id at
    /// once would fence the partition's new owner.
    private func recover(
        _ partition: Int32,
        _ owner: PartitionOwner,
        _ owned: Owned,
        consumer: KafkaConsumer,
        inbox: PreparedInbox<Role.State>,
        preparations: inout ThrowingTaskGroup<Void, any Error>
    ) async {
        let quarantine = configuration.awayQuarantine(consumer)
        if quarantine == .zero, await renewProducer(owner) { return }
        await reprepare(partition, owned, consumer: consumer, inbox: inbox, preparations: &preparations, after: quarantine)
    }

    private func checkStuck(_ owned: Owned) {
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

    // MARK: - Batches

    /// What one partition's transaction carries, handed to a child task.
    private struct CommitItem: Sendable {
        var partition: Int32
        var producer: KafkaTransactionalProducer?
        var messages: [KafkaProducerMessage]
        var offsets: [KafkaTopicPartition: Int64]
    }

    private func runBatch(
        _ records: [InboundRecord],
        _ owned: Owned,
        consumer: KafkaConsumer,
        atLeastOnce: KafkaProducer?,
        inbox: PreparedInbox<Role.State>,
        preparations: inout ThrowingTaskGroup<Void, any Error>,
        snapshotter: Snapshotter?
    ) async throws {
        let started = ContinuousClock.now
        let deadline = started + configuration.batchTimeBound
        var items: [CommitItem] = []
        var outcomes: [Int32: (BatchOutcome<Role.State>, [InboundRecord])] = [:]
        for (partition, batch) in Dictionary(grouping: records, by: \.partition).sorted(by: { $0.key < $1.key }) {
            guard let owner = owned.owners[partition], owner.isReady else { continue }
            let outcome = try await processor.process(
                batch, store: &owned.store, version: owner.version, rewrite: owner.rewrite, poisoned: owner.poisoned, deadline: deadline
            )
            outcomes[partition] = (outcome, batch)
            var messages = outcome.messages
            let offsets = owner.carried.merging(outcome.lastOffsets) { max($0, $1) }
            if messages.isEmpty && configuration.exactlyOnce {
                // Nothing to write (only duplicates, or records that change nothing): the offsets ride
                // along with a later transaction; reprocessing them after a crash changes nothing.
                owner.carry(outcome.lastOffsets)
                guard let since = owner.carriedSince, ContinuousClock.now - since >= configuration.carryLimit,
                    let last = batch.prefix(outcome.processed).last
                else {
                    health.progressed(healthName)
                    // Records past the batch's time bound were not handled: read them again.
                    try await rewind(consumer, to: Array(batch.dropFirst(outcome.processed)))
                    continue
                }
                messages = [processor.positionMarker(partition: partition, source: last, version: owner.version)]
            }
            items.append(CommitItem(partition: partition, producer: owner.producer, messages: messages, offsets: offsets))
        }
        guard !items.isEmpty else { return }
        let results = try await commit(items, consumer: consumer, atLeastOnce: atLeastOnce)
        var committedPartitions: Set<Int32> = []
        for (item, result) in zip(items, results) {
            guard let owner = owned.owners[item.partition] else { continue }
            let (outcome, batch) = outcomes[item.partition] ?? (BatchOutcome(), [])
            switch result {
            case .committed:
                owner.committed(item.offsets)
                committedPartitions.insert(item.partition)
                health.committed(healthName)
                if !outcome.oversizedStates.isEmpty {
                    logger.error(
                        "a state value outgrew its limit; the records that would have grown it went to the dead-letter topic",
                        metadata: ["kafka.partition": "\(item.partition)", "souk.keys": "\(outcome.oversizedStates)", "souk.limit": "\(processor.maxStateBytes)"]
                    )
                }
                metrics.recordBatch(outcome, records: batch.prefix(outcome.processed), duration: .now - started, committed: true)
                for (input, offset) in item.offsets {
                    if let high = consumer.cachedHighWatermark(input) { metrics.recordLag(input, lag: max(0, high - offset - 1)) }
                }
                // Records past the batch's time bound were not handled: read them again.
                try await rewind(consumer, to: Array(batch.dropFirst(outcome.processed)))
            case .skipped:
                outcome.rollBack(&owned.store)
                if configuration.mayHaveBeenAway(consumer) {
                    metrics.recordAwaySkip()
                    logger.info("commit skipped: the worker went most of a session without polling", metadata: ["kafka.partition": "\(item.partition)"])
                }
                try? await rewind(consumer, to: batch)
            case .aborted(let error, let failures):
                outcome.rollBack(&owned.store)
                owner.rewrite.formUnion(outcome.changedKeys)
                for failure in failures where failure.error.isPermanentDeliveryFailure {
                    guard failure.tag < outcome.origins.count, let origin = outcome.origins[failure.tag] else { continue }
                    owner.poisoned[origin] = "output failed for good: \(failure.error)"
                }
                owner.failed()
                health.aborted(healthName)
                metrics.recordBatch(outcome, records: batch.prefix(outcome.processed), duration: .now - started, committed: false)
                logger.warning("batch aborted; reprocessing", metadata: ["kafka.partition": "\(item.partition)", "kafka.error": "\(error)"])
                try await rewind(consumer, to: batch)
                // Every failed transaction call renews the producer: the local broker may never finish
                // the abort it was asked for, and only a new producer under the same id ends it.
                if configuration.exactlyOnce {
                    await recover(item.partition, owner, owned, consumer: consumer, inbox: inbox, preparations: &preparations)
                }
            case .unknown(let error):
                owner.failed()
                health.aborted(healthName)
                metrics.recordLostCommit()
                metrics.recordBatch(outcome, records: batch.prefix(outcome.processed), duration: .now - started, committed: false)
                logger.error(
                    "a commit's outcome is unknown; restoring the partition from its changelog",
                    metadata: ["kafka.partition": "\(item.partition)", "kafka.error": "\(error)"]
                )
                await reprepare(
                    item.partition, owned, consumer: consumer, inbox: inbox, preparations: &preparations, after: configuration.awayQuarantine(consumer)
                )
            case .fenced(let error):
                owner.failed()
                health.aborted(healthName)
                logger.error(
                    "fenced by another owner of the partition; preparing it again unless the group takes it away",
                    metadata: ["kafka.partition": "\(item.partition)", "kafka.error": "\(error)"]
                )
                let wait = (configuration.timings.sessionTimeout ?? .seconds(45)) * 2
                await reprepare(item.partition, owned, consumer: consumer, inbox: inbox, preparations: &preparations, after: wait)
            }
        }
        if let snapshotter, !committedPartitions.isEmpty {
            for partition in committedPartitions { snapshotter.generations[partition] = owned.owners[partition]?.version.generation }
            try await snapshotter.snapshotDue(owned.store, partitions: committedPartitions, worker: self)
        }
    }

    /// Commits the carried offsets of partitions that have seen nothing but no-op records for a while.
    private func commitDueCarries(
        _ owned: Owned,
        consumer: KafkaConsumer,
        atLeastOnce: KafkaProducer?,
        inbox: PreparedInbox<Role.State>,
        preparations: inout ThrowingTaskGroup<Void, any Error>
    ) async throws {
        guard configuration.exactlyOnce else { return }
        let idle = await idleCommits(owned, consumer: consumer)
        let due = owned.owners.values.filter { owner in
            owner.isReady
                && ((owner.carriedSince.map { ContinuousClock.now - $0 >= configuration.carryLimit } ?? false) || idle.contains(owner.partition))
        }
        guard !due.isEmpty else { return }
        let items = due.compactMap { owner -> CommitItem? in
            // An idle partition whose last commit the broker left prepared commits again: on the local
            // broker that transaction folds the prepared one in, and with the flow quiet nothing
            // overlapping is open any more, so it finishes (see `StreamConfiguration.confirmCommits`).
            // One whose last commit finished closes with one more (see `idleCommits`).
            var offsets = owner.carried
            if idle.contains(owner.partition), let last = owner.lastCommit { offsets.merge(last.offsets) { max($0, $1) } }
            guard let (topicPartition, offset) = offsets.max(by: { $0.value < $1.value }) else { return nil }
            let source = InboundRecord(topic: topicPartition.topic, partition: owner.partition, offset: offset, key: nil, value: nil)
            return CommitItem(
                partition: owner.partition, producer: owner.producer,
                messages: [processor.positionMarker(partition: owner.partition, source: source, version: owner.version)], offsets: offsets
            )
        }
        let results = try await commit(items, consumer: consumer, atLeastOnce: atLeastOnce)
        for (item, result) in zip(items, results) {
            guard let owner = owned.owners[item.partition] else { continue }
            switch result {
            case .committed: owner.committed(item.offsets, closing: idle.contains(item.partition))
            case .skipped: break
            case .aborted:
                owner.failed()
                await recover(item.partition, owner, owned, consumer: consumer, inbox: inbox, preparations: &preparations)
            case .unknown, .fenced:
                owner.failed()
                await reprepare(
                    item.partition, owned, consumer: consumer, inbox: inbox, preparations: &preparations, after: configuration.awayQuarantine(consumer)
                )
            }
        }
    }

    /// The idle partitions that commit a position marker `confirmInterval` after their last commit,
    /// found with one OffsetFetch, only while the worker is idle:
    /// - those whose last commit the group does not show: the broker still holds it prepared;
    /// - those whose last commit finished, once: on the local broker `EndTxn` writes its control
    ///   markers after marking the transaction prepared, and if another producer's `EndTxn` finishes
    ///   it meanwhile, the later markers are recorded against the finished transaction, which then
    ///   blocks every transaction overlapping it. Only the same producer's next transaction reopens
    ///   and clears it; an idle partition would never make one, and the flow stayed stuck (a saga
    ///   partition held at lag 698 after a `souk load` without any fault, until new orders came).
    private func idleCommits(_ owned: Owned, consumer: KafkaConsumer) async -> Set<Int32> {
        guard configuration.confirmCommits else { return [] }
        let now = ContinuousClock.now
        let idle = owned.owners.values.compactMap { owner in
            owner.lastCommit.flatMap { owner.isReady && now - $0.at >= configuration.confirmInterval ? (owner, $0.offsets) : nil }
        }
        guard !idle.isEmpty, let committed = try? await consumer.committed(idle.flatMap { $0.1.keys }) else { return [] }
        var due: Set<Int32> = []
        for (owner, offsets) in idle {
            if offsets.allSatisfy({ (committed[$0.key] ?? -1) > $0.value }) {
                if owner.lastCommitClosed { owner.lastCommit = nil } else { due.insert(owner.partition) }
            } else {
                due.insert(owner.partition)
                metrics.recordUnconfirmedCommit()
            }
        }
        return due
    }

    /// Runs each partition's transaction in a child task of its own; they overlap on the broker.
    private func commit(_ items: [CommitItem], consumer: KafkaConsumer, atLeastOnce: KafkaProducer?) async throws -> [PartitionCommitResult] {
        if let atLeastOnce {
            // One produce-flush-commit for all partitions: they share its outcome.
            return Array(repeating: await commitAtLeastOnce(items, producer: atLeastOnce, consumer: consumer), count: items.count)
        }
        let metadata = try consumer.groupMetadata()
        let rebalances = self.rebalances, configuration = self.configuration
        return await withTaskGroup(of: (Int, PartitionCommitResult).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask {
                    (index, await Self.commit(item, metadata: metadata, consumer: consumer, rebalances: rebalances, configuration: configuration))
                }
            }
            var results = [PartitionCommitResult](repeating: .skipped, count: items.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    /// A partition the group took away, or one this worker may have lost while it was away, is never
    /// committed: its new owner may already have it.
    private static func mustNotCommit(_ partition: Int32, consumer: KafkaConsumer, rebalances: RebalanceLog, configuration: StreamConfiguration) -> Bool {
        rebalances.revokes(partition) || consumer.isAssignmentLost || configuration.mayHaveBeenAway(consumer)
    }

    private static func commit(
        _ item: CommitItem,
        metadata: KafkaConsumerGroupMetadata,
        consumer: KafkaConsumer,
        rebalances: RebalanceLog,
        configuration: StreamConfiguration
    ) async -> PartitionCommitResult {
        guard let producer = item.producer else { return .skipped }
        if mustNotCommit(item.partition, consumer: consumer, rebalances: rebalances, configuration: configuration) { return .skipped }
        do {
            try await producer.begin()
        } catch let error as KafkaError {
            return error.kind == .fatal ? .fenced(error) : .aborted(error, failures: [])
        } catch {
            return .aborted(KafkaError(kind: .failed, message: "\(error)"), failures: [])
        }
        do {
            for (tag, message) in item.messages.enumerated() {
                do {
                    try await producer.produce(message, tag: tag)
                } catch let error as KafkaError where error.isPermanentDeliveryFailure {
                    try await producer.abort(bound: configuration.commitBound)
                    return .aborted(error, failures: [(tag, error)])
                }
            }
            try await producer.sendOffsets(lastProcessed: item.offsets, groupMetadata: metadata)
        } catch let error as KafkaError where error.kind == .fatal {
            return .fenced(error)
        } catch {
            do {
                try await producer.abort(bound: configuration.commitBound)
                return .aborted(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"), failures: producer.takeFailedDeliveries())
            } catch {
                return .unknown(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"))
            }
        }
        if mustNotCommit(item.partition, consumer: consumer, rebalances: rebalances, configuration: configuration) {
            try? await producer.abort(bound: configuration.commitBound)
            return .skipped
        }
        switch await producer.commit(bound: configuration.commitBound) {
        case .committed: return .committed
        case .aborted(let error): return .aborted(error, failures: producer.takeFailedDeliveries())
        case .unknown(let error): return .unknown(error)
        case .fatal(let error): return .fenced(error)
        }
    }

    private func commitAtLeastOnce(_ items: [CommitItem], producer: KafkaProducer, consumer: KafkaConsumer) async -> PartitionCommitResult {
        do {
            for item in items {
                for message in item.messages { try await producer.produce(message) }
            }
            try await producer.flush()
            try await consumer.commit(lastProcessed: items.reduce(into: [:]) { $0.merge($1.offsets) { max($0, $1) } })
            return .committed
        } catch {
            return .aborted(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"), failures: [])
        }
    }

    /// Replaces a partition's producer with a new one under the same transactional id.
    private func renewProducer(_ owner: PartitionOwner) async -> Bool {
        if let old = owner.producer { retire(old, of: owner.partition) }
        owner.producer = nil
        do {
            owner.producer = try await Self.initialisedProducer(
                producerConfiguration, transactionalID: configuration.transactionalID(role: role.name, partition: owner.partition),
                changelog: configuration.endPredecessorEpochs ? KafkaTopicPartition(topic: role.changelogTopic, partition: owner.partition) : nil,
                after: retirements, metrics: metrics, logger: logger
            )
            return true
        } catch {
            logger.warning("renewing a producer failed", metadata: ["kafka.partition": "\(owner.partition)", "error": "\(error)"])
            return false
        }
    }

    /// A partition's producer, initialised: the previous owner of its id is fenced and its open
    /// transaction ended — once this worker's own earlier producers of the id have nothing in flight.
    ///
    /// Before initialising (given `changelog`), the epoch that last wrote the partition's changelog (every transaction of
    /// the id writes there, and nothing else does) is reopened and aborted: on the local broker a
    /// predecessor killed right after a commit can leave that epoch holding its partitions for good,
    /// and only a transaction of the same epoch clears it (`KafkaEpochRepair`).
    private static func initialisedProducer(
        _ configuration: KafkaProducerConfiguration,
        transactionalID: String,
        changelog: KafkaTopicPartition?,
        after retirements: ProducerRetirements,
        metrics: StreamMetrics,
        logger: Logger
    ) async throws -> KafkaTransactionalProducer {
        await retirements.settled(transactionalID)
        if let changelog {
            let repair = await KafkaEpochRepair.endLastEpoch(transactionalID: transactionalID, lastWrittenTo: changelog, configuration: configuration)
            metrics.recordEpochRepair(repair)
            if case .unavailable = repair {
                logger.info("could not end the last epoch before initialising", metadata: ["kafka.transactional_id": "\(transactionalID)", "reason": "\(repair)"])
            } else {
                logger.debug("last epoch before initialising", metadata: ["kafka.transactional_id": "\(transactionalID)", "outcome": "\(repair)"])
            }
        }
        let producer = try KafkaTransactionalProducer(configuration: configuration, transactionalID: transactionalID, logger: logger)
        try await producer.initTransactions()
        return producer
    }

    /// Seeks each partition of `records` back to its first record, to be read again.
    private func rewind(_ consumer: KafkaConsumer, to records: [InboundRecord]) async throws {
        var first: [KafkaTopicPartition: Int64] = [:]
        for record in records {
            let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
            first[key] = min(first[key] ?? record.offset, record.offset)
        }
        guard !first.isEmpty else { return }
        try await consumer.seek(first.map { KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value)) })
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

    private var producerConfiguration: KafkaProducerConfiguration {
        KafkaProducerConfiguration(
            bootstrapServers: configuration.bootstrapServers,
            clientID: configuration.clientID(role: role.name),
            additional: configuration.producerOverrides
        )
    }
}

/// Rebalance events reported inside `poll`, handed to the worker loop after it returns.
public final class RebalanceLog: Sendable {
    public init() {}

    private let events = Mutex<[KafkaRebalanceEvent]>([])

    public func append(_ event: KafkaRebalanceEvent) {
        events.withLock { $0.append(event) }
    }

    /// Whether a revocation of `partition` is waiting to be applied.
    public func revokes(_ partition: Int32) -> Bool {
        events.withLock { events in
            events.contains { event in
                guard case .revoked(let partitions, let cooperative) = event else { return false }
                return !cooperative || partitions.contains { $0.partition == partition }
            }
        }
    }

    public var isEmpty: Bool { events.withLock { $0.isEmpty } }

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
        func forget(_ partition: Int32) { lastTaken[partition] = nil }

        // @unchecked: used from the worker loop only.
        let snapshots: StateSnapshots
        private var lastTaken: [Int32: ContinuousClock.Instant] = [:]
        private let admin: KafkaAdminClient

        init(snapshots: StateSnapshots, admin: KafkaAdminClient) {
            self.snapshots = snapshots
            self.admin = admin
        }

        /// The generation each partition's owner writes with, kept in its snapshot.
        var generations: [Int32: Int64] = [:]

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
                let snapshot = StateSnapshots.Snapshot(
                    changelogOffset: offset, entries: store.entries(partition: partition), versions: store.versions(partition: partition),
                    generation: generations[partition]
                )
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
