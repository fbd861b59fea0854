import Kafka
import Logging
import Synchronization

/// Where a replacement producer made in a job waits for the worker loop.
final class ProducerSlot: Sendable {
    private let slot = Mutex<KafkaTransactionalProducer?>(nil)

    func put(_ producer: KafkaTransactionalProducer) { slot.withLock { $0 = producer } }

    func take() -> KafkaTransactionalProducer? {
        slot.withLock { slot in
            defer { slot = nil }
            return slot
        }
    }
}

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

    /// A partition's state and its share of the open round go.
    func release(_ partition: Int32, _ owned: Owned, _ context: Context) {
        context.inbox.wanted.withLock { _ = $0.removeValue(forKey: partition) }
        owned.bump(partition)
        owned.store.drop(partition: partition)
        owned.open[partition] = nil
        owned.snapshots[partition] = nil
        if owned.open.isEmpty { owned.openSince = nil }
        owned.owners[partition] = nil
    }

    /// Fences whoever wrote the partition last, then restores its state, in a job; the inputs stay
    /// paused until `installPrepared` takes the result.
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
        let ownID = transactionalID, retirements = self.retirements, metrics = self.metrics
        let producerConfiguration = self.producerConfiguration
        context.jobs.start {
            if delay > .zero { try? await Task.sleep(for: delay) }
            var attempt = 0
            while !Task.isCancelled && inbox.isWanted(partition, token: token) {
                attempt += 1
                do {
                    if configuration.exactlyOnce {
                        try await Self.fencePredecessor(
                            of: KafkaTopicPartition(topic: role.changelogTopic, partition: partition), ownID: ownID,
                            legacyID: configuration.legacyTransactionalID(role: role.name, partition: partition),
                            configuration: configuration, producerConfiguration: producerConfiguration, metrics: metrics, logger: logger,
                            stillWanted: { inbox.isWanted(partition, token: token) }
                        )
                        // This worker's own failed transaction ends first (its producer is sealed and
                        // replaced), so that the offsets read next are its final word.
                        await retirements.settled(ownID)
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
                        $0.append(PreparedPartition(partition: partition, token: token, committed: committed, restored: restored[partition]!))
                    }
                    consumer.wakeup()
                    return
                } catch {
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

    /// Ends and fences the transactional id that last wrote a partition's changelog, unless it is this
    /// worker's: every transaction writes the changelog of each partition it commits, naming its
    /// writer. On the local broker nothing times a transaction out and the group's generation fences
    /// nobody: a writer that died (or was scaled in) leaves its open transaction pinning its partitions
    /// for every reader, and one that froze past its session could still commit. So the epoch that
    /// wrote last is reopened and aborted (`KafkaEpochRepair`: that also ends one left prepared, or
    /// holding partitions after its end), then the id is initialised by a producer of this worker's
    /// that goes at once: its old producer can no longer produce or commit. A live writer that merely
    /// lost the partition in a rebalance replaces its producer and goes on.
    static func fencePredecessor(
        of changelog: KafkaTopicPartition,
        ownID: String,
        legacyID: String,
        configuration: StreamConfiguration,
        producerConfiguration: KafkaProducerConfiguration,
        metrics: StreamMetrics,
        logger: Logger,
        stillWanted: () -> Bool
    ) async throws {
        guard configuration.endPredecessorEpochs else { return }
        let repair = await KafkaEpochRepair.endLastWriter(
            of: changelog, writerHeader: ChangelogSource.writerHeader, fallbackID: legacyID, except: ownID, configuration: producerConfiguration
        )
        metrics.recordEpochRepair(repair)
        if case .unavailable = repair {
            logger.info("could not end the last writer's epoch", metadata: ["kafka.partition": "\(changelog.partition)", "reason": "\(repair)"])
        } else {
            logger.debug("the last writer's epoch", metadata: ["kafka.partition": "\(changelog.partition)", "outcome": "\(repair)"])
        }
        // A preparation no longer wanted fences nobody: the partition may be someone else's by now.
        guard let writer = repair.writer, stillWanted() else { return }
        let fence = try KafkaTransactionalProducer(configuration: producerConfiguration, transactionalID: writer, logger: logger)
        try await fence.initTransactions()
        await fence.discard()
        metrics.recordFence()
        logger.info("fenced the partition's previous writer", metadata: ["kafka.partition": "\(changelog.partition)", "kafka.transactional_id": "\(writer)"])
    }

    /// Takes finished preparations: installs the state, seeks the inputs to the offsets it matches and
    /// resumes them.
    func installPrepared(_ owned: Owned, _ context: Context) async throws {
        let prepared = context.inbox.items.withLock { prepared in
            defer { prepared.removeAll() }
            return prepared
        }
        for item in prepared {
            guard let owner = owned.owners[item.partition], owner.token == item.token, !owner.isReady else { continue }
            owned.store.install(partition: item.partition, item.restored.entries, versions: item.restored.versions)
            owner.version = ChangelogVersion(generation: item.restored.generation + 1, sequence: 0)
            owner.rewrite = item.restored.leftovers
            owner.next = Dictionary(uniqueKeysWithValues: item.committed.filter { $0.key.partition == item.partition }.map { ($0.key.topic, $0.value) })
            owner.phase = .ready
            context.snapshotter?.forget(item.partition)
            // Read from exactly the offsets the state matches (the group's reset policy is earliest).
            let positions = inputs(item.partition).map { input in
                KafkaTopicPartitionOffset(input, offset: item.committed[input].map(KafkaOffset.init) ?? .beginning)
            }
            context.consumer.wakeup()
            do {
                try await context.consumer.seek(positions, bumping: [item.partition], in: owned.epochBook)
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
                    "kafka.offsets": "\(positions.map { "\($0.topicPartition.topic)=\($0.offset)" }.joined(separator: ","))",
                ]
            )
        }
        if owned.joined && !owned.owners.values.contains(where: { !$0.isReady }) { health.markReady(healthName) }
    }

    // MARK: - The worker's producer

    /// Replaces the worker's producer: the old one is sealed (a transaction of its own ends its epoch,
    /// on a partition this worker prepares again, `sealingOn`) and discarded, and a new one under the
    /// same id is initialised in a job; the loop takes it in `takeRenewedProducer`. Meanwhile outputs
    /// wait in the open round.
    func renewProducer(_ owned: Owned, _ context: Context, sealingOn partition: Int32? = nil) {
        if let old = owned.producer { retire(old, sealingOn: partition ?? owned.owners.keys.min()) }
        owned.producer = nil
        owned.inTransaction = false
        owned.origins = []
        let configuration = producerConfiguration, id = transactionalID, retirements = self.retirements, logger = self.logger
        let consumer = context.consumer, renewed = context.renewed
        context.jobs.start {
            var attempt = 0
            while !Task.isCancelled {
                attempt += 1
                do {
                    await retirements.settled(id)
                    let producer = try KafkaTransactionalProducer(configuration: configuration, transactionalID: id, logger: logger)
                    try await producer.initTransactions()
                    renewed.put(producer)
                    consumer.wakeup()
                    return
                } catch {
                    logger.warning("initialising the producer failed; retrying", metadata: ["souk.attempt": "\(attempt)", "error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(min(2_000, 100 * attempt)))
                }
            }
        }
    }

    /// Takes a producer `renewProducer` made ready, and produces what waited for it.
    func takeRenewedProducer(_ owned: Owned, _ context: Context) async {
        guard let producer = context.renewed.take() else { return }
        owned.producer = producer
        owned.inTransaction = false
        owned.origins = []
        if canProduce(owned) {
            for partition in owned.open.keys.sorted() { await produce(partition, owned, context) }
        }
        await resumeHeldBack(owned, context)
    }

    /// A position marker without a position: the one record of a transaction that only ends what
    /// came before it (a seal before giving a producer up).
    func closingMarker(_ partition: Int32) -> KafkaProducerMessage {
        processor.positionMarker(partition: partition, source: (role.inputTopics[0], -1), version: .initial)
    }

    /// Seals a producer on a partition this worker owns (a seal elsewhere would name this worker as
    /// the last writer of another owner's partition, which then fences it), or not at all.
    func retire(_ producer: KafkaTransactionalProducer, sealingOn partition: Int32?) {
        retirements.retire(producer, sealingWith: partition.map(closingMarker))
    }

    func retireAll(_ owned: Owned) async {
        guard let producer = owned.producer else { return }
        owned.producer = nil
        await retirements.retireAll([(producer, owned.owners.keys.min().map(closingMarker))])
    }
}
