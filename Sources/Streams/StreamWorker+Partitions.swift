import Kafka
import Logging

extension StreamWorker {
    func inputs(_ partition: Int32) -> [KafkaTopicPartition] {
        role.inputTopics.map { KafkaTopicPartition(topic: $0, partition: partition) }
    }

    func readyInputs(_ owned: Owned) -> [KafkaTopicPartition] {
        owned.owners.values.filter(\.isReady).flatMap { inputs($0.partition) }
    }

    /// Drops the state of revoked partitions and starts preparing assigned ones. While a commit is
    /// out nothing changes: the loop applies rebalances once it has returned.
    func applyRebalances(_ owned: Owned, _ context: Context) {
        guard owned.flight == nil else { return }
        for event in rebalances.drain() {
            let partitions = Set(event.partitions.map(\.partition))
            switch event {
            case .assigned:
                owned.joined = true
                for partition in partitions.sorted() { startPreparing(partition, owned, context) }
                logger.info("partitions assigned", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            case .revoked(_, let cooperative):
                // Eager revocation takes everything, even partitions listed only once per topic.
                let lost = cooperative ? partitions : Set(owned.owners.keys).union(partitions)
                for partition in lost { release(partition, owned, context) }
                logger.info("partitions revoked", metadata: ["kafka.partitions": "\(lost.sorted())"])
            }
        }
    }

    /// A partition's state, its share of the open round and its producer go.
    func release(_ partition: Int32, _ owned: Owned, _ context: Context) {
        context.inbox.wanted.withLock { _ = $0.removeValue(forKey: partition) }
        owned.bump(partition)
        owned.store.drop(partition: partition)
        owned.open[partition] = nil
        owned.snapshots[partition] = nil
        if owned.open.isEmpty { owned.openSince = nil }
        if let producer = owned.owners.removeValue(forKey: partition)?.producer {
            // The producer goes off the loop: it seals its epoch, and its requests in flight are waited
            // for before the id is initialised again.
            retire(producer, of: partition)
        }
    }

    /// Fences the partition's previous owner, then restores its state, in a child task; the inputs
    /// stay paused until `installPrepared` takes the result.
    func startPreparing(_ partition: Int32, _ owned: Owned, _ context: Context, after delay: Duration = .zero) {
        release(partition, owned, context)
        owned.nextToken += 1
        let token = owned.nextToken
        owned.owners[partition] = PartitionOwner(partition: partition, token: token)
        let inbox = context.inbox, consumer = context.consumer
        inbox.wanted.withLock { $0[partition] = token }
        health.markUnready(healthName)
        let inputs = inputs(partition)
        let configuration = self.configuration, role = self.role, logger = self.logger, health = self.health, name = healthName
        let transactionalID = configuration.transactionalID(role: role.name, partition: partition)
        let producerConfiguration = self.producerConfiguration, retirements = self.retirements, metrics = self.metrics
        context.jobs.start {
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
                    consumer.wakeup()
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

    /// Takes finished preparations: installs the state, seeks the inputs to the offsets it matches and
    /// resumes them.
    func installPrepared(_ owned: Owned, _ context: Context) async throws {
        let prepared = context.inbox.items.withLock { prepared in
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
            owner.rewrite = item.restored.leftovers
            owner.phase = .ready
            context.snapshotter?.forget(item.partition)
            // Read from exactly the offsets the state matches (the group's reset policy is earliest).
            let positions = inputs(item.partition).map { input in
                KafkaTopicPartitionOffset(input, offset: item.committed[input].map(KafkaOffset.init) ?? .beginning)
            }
            owned.bump(item.partition)
            context.consumer.wakeup()
            do {
                if !positions.isEmpty { try await context.consumer.seek(positions) }
            } catch {
                logger.warning("seek after restore failed", metadata: ["kafka.partition": "\(item.partition)", "error": "\(error)"])
            }
            if owned.heldBack.isEmpty { try? await context.consumer.resume(inputs(item.partition)) } else { owned.heldBack += inputs(item.partition) }
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

    // MARK: - Producers

    /// Commits a transaction that touches only the partition's changelog, right after the producer was
    /// initialised. On the local broker a predecessor killed between its `EndTxn` and the transaction's
    /// completion leaves it prepared (initialising does not end a prepared transaction), and it completes
    /// only when an overlapping transaction ends; an idle new owner would never end one, and the
    /// prepared transaction would pin every partition it wrote to for all readers, for good. The sweep
    /// ends it (aborted by then if the repair in `initialisedProducer` ran, else as it was decided)
    /// before the committed offsets are read for the restore. On Apache Kafka it is one cheap
    /// transaction per assignment.
    static func sweep(_ partition: Int32, with producer: KafkaTransactionalProducer, role: Role, bound: Duration) async throws {
        try await producer.begin()
        try await producer.produce(closingMarker(partition, role: role), tag: 0)
        switch await producer.commit(bound: bound) {
        case .committed: return
        case .aborted(let error), .unknown(let error), .fatal(let error): throw error
        }
    }

    /// A position marker without a position: the one record of a transaction that only ends what
    /// came before it (a sweep after initialising, a seal before giving a producer up).
    static func closingMarker(_ partition: Int32, role: Role) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic, partition: partition, key: Array(ChangelogMarker.positionKey.utf8), value: [],
            headers: ChangelogSource(topic: role.inputTopics[0], offset: -1).headers
        )
    }

    func retire(_ producer: KafkaTransactionalProducer, of partition: Int32) {
        retirements.retire(producer, sealingWith: Self.closingMarker(partition, role: role))
    }

    func retireAll(_ owned: Owned) async {
        await retirements.retireAll(owned.owners.compactMap { partition, owner in
            owner.producer.map { ($0, Self.closingMarker(partition, role: role)) }
        })
    }

    /// A partition's producer, initialised: the previous owner of its id is fenced and its open
    /// transaction ended — once this worker's own earlier producers of the id have nothing in flight.
    ///
    /// Before initialising (given `changelog`), the epoch that last wrote the partition's changelog (every transaction of
    /// the id writes there, and nothing else does) is reopened and aborted: on the local broker a
    /// predecessor killed right after a commit can leave that epoch holding its partitions for good,
    /// and only a transaction of the same epoch clears it (`KafkaEpochRepair`).
    static func initialisedProducer(
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
}
