import Kafka
import Logging

// MARK: - Handling and producing

extension StreamWorker {
    /// Handles polled records partition by partition into the open round. While no commit is out
    /// their outputs go into the partitions' open transactions at once; otherwise they wait in the
    /// round until the commit has returned (`land`).
    func handle(_ records: [InboundRecord], _ owned: Owned, _ context: Context) async throws {
        let deadline = ContinuousClock.now + configuration.batchTimeBound
        let epochs = owned.epochs
        // A poll brings each partition's records in runs: each run is handled where it lies.
        var start = records.startIndex
        while start < records.endIndex {
            let partition = records[start].partition
            let end = records[start...].firstIndex { $0.partition != partition } ?? records.endIndex
            let run = records[start..<end]
            start = end
            guard let owner = owned.owners[partition], owner.isReady, owned.epochs[partition] == epochs[partition] else { continue }
            var round = owned.open.removeValue(forKey: partition) ?? PartitionRound(partition: partition)
            let handled = try await processor.handle(
                run, store: &owned.store, round: &round, poisoned: owned.poisoned[partition] ?? [:], deadline: deadline
            )
            if handled < run.count {
                // Records past the batch's time bound were not handled: read them again (later runs of
                // the partition in this poll are stale now).
                try await rewind(context.consumer, to: run.dropFirst(handled), owned)
            }
            if owned.flight == nil, !(await produce(&round, owner, owned, context)) { continue }
            owned.open[partition] = round
            if owned.openSince == nil { owned.openSince = .now }
        }
    }

    /// Produces the round's new messages into the partition's open transaction, beginning it first,
    /// on the producer's own thread (the loop does not wait; a failure fails the commit). Returns
    /// `false` when that cannot be done: the partition is then prepared again from its changelog.
    func produce(_ round: inout PartitionRound, _ owner: PartitionOwner, _ owned: Owned, _ context: Context) async -> Bool {
        let (firstTag, messages) = round.takeMessages()
        guard !messages.isEmpty else { return true }
        do {
            if let atLeastOnce = context.atLeastOnce {
                for message in messages where try !atLeastOnce.enqueue(message) { try await atLeastOnce.produce(message) }
                return true
            }
            guard let producer = owner.producer else { throw KafkaError(kind: .failed, message: "the partition has no producer") }
            producer.produceInBackground(messages, firstTag: firstTag, beginning: !owner.inTransaction)
            owner.inTransaction = true
            return true
        } catch {
            let error = error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)")
            logger.warning("producing a round failed; preparing the partition again", metadata: ["kafka.partition": "\(owner.partition)", "kafka.error": "\(error)"])
            await fail(owner.partition, owned, context, error: error)
            return false
        }
    }

    /// While a commit is out and the open round is full, its inputs are paused (the loop goes on
    /// polling, so the member stays in its group); `land` resumes them.
    func holdBackWhileFull(_ owned: Owned, _ context: Context) async throws {
        guard owned.flight != nil, owned.heldBack.isEmpty, owned.openRecords >= configuration.batchSize else { return }
        let inputs = readyInputs(owned)
        guard !inputs.isEmpty else { return }
        try await context.consumer.pause(inputs)
        owned.heldBack = inputs
    }
}

// MARK: - Committing

extension StreamWorker {
    /// Closes the open round (changelog records, dedupe buckets) and commits every partition's
    /// transaction in a child task. Partitions whose records changed nothing and produced nothing
    /// carry their offsets to a later round (`carryLimit`).
    func launchFlight(_ owned: Owned, _ context: Context) async throws {
        var items: [CommitItem] = []
        var summaries: [Int32: RoundSummary] = [:]
        let rounds = owned.open
        owned.open = [:]
        owned.openSince = nil
        for (partition, round) in rounds.sorted(by: { $0.key < $1.key }) {
            guard let owner = owned.owners[partition], owner.isReady else { continue }
            var round = round
            let version = owner.nextVersion()
            do {
                try processor.close(&round, version: version, rewrite: owner.rewrite, store: &owned.store)
            } catch {
                logger.error("closing a round failed", metadata: ["kafka.partition": "\(partition)", "error": "\(error)"])
                await fail(partition, owned, context, error: KafkaError(kind: .failed, message: "\(error)"))
                continue
            }
            if round.origins.isEmpty {
                // Nothing to write (only duplicates, or records that change nothing): the offsets ride
                // along with a later transaction; reprocessing them after a crash changes nothing.
                owner.carry(round.lastOffsets)
                guard let since = owner.carriedSince, ContinuousClock.now - since >= configuration.carryLimit,
                    let (topic, offset) = owner.carried.max(by: { $0.value < $1.value }).map({ ($0.key.topic, $0.value) })
                else {
                    health.progressed(healthName)
                    continue
                }
                round.append(processor.positionMarker(partition: partition, source: (topic, offset), version: version), origin: nil)
            }
            guard await produce(&round, owner, owned, context) else { continue }
            if let snapshotter = context.snapshotter, snapshotter.isDue(partition) {
                owned.snapshots[partition] = snapshotter.capture(owned.store, partition: partition, generation: version.generation)
            }
            items.append(
                CommitItem(
                    partition: partition, producer: owner.producer, offsets: owner.carried.merging(round.lastOffsets) { max($0, $1) },
                    origins: round.origins, token: owner.token
                )
            )
            summaries[partition] = RoundSummary(
                processed: round.processed, emitted: round.emitted, duplicates: round.duplicates, deadLettered: round.deadLettered,
                oversizedStates: round.oversizedStates
            )
        }
        launch(items, summaries, owned, context)
    }

    /// Commits `items` in a child task; the loop takes the results in `land`.
    func launch(_ items: [CommitItem], _ summaries: [Int32: RoundSummary], _ owned: Owned, _ context: Context) {
        guard !items.isEmpty else { return }
        let flight = CommitFlight(items: items, rounds: summaries)
        owned.flight = flight
        let consumer = context.consumer, rebalances = self.rebalances, configuration = self.configuration
        if let atLeastOnce = context.atLeastOnce {
            context.jobs.start {
                let result = await Self.commitAtLeastOnce(items, producer: atLeastOnce, consumer: consumer)
                flight.land(Array(repeating: result, count: items.count))
                consumer.wakeup()
            }
            return
        }
        let metadata = try? consumer.groupMetadata()
        context.jobs.start {
            let results = await CommitFlight.commit(items, metadata: metadata, bound: configuration.commitBound) { partition in
                Self.mustNotCommit(partition, consumer: consumer, rebalances: rebalances, configuration: configuration)
            }
            flight.land(results)
            consumer.wakeup()
        }
    }

    /// A partition the group took away, or one this worker may have lost while it was away, is never
    /// committed: its new owner may already have it.
    static func mustNotCommit(_ partition: Int32, consumer: KafkaConsumer, rebalances: RebalanceLog, configuration: StreamConfiguration) -> Bool {
        rebalances.revokes(partition) || consumer.isAssignmentLost || configuration.mayHaveBeenAway(consumer)
    }

    /// The at-least-once commit: every output acknowledged, then the offsets committed.
    private static func commitAtLeastOnce(_ items: [CommitItem], producer: KafkaProducer, consumer: KafkaConsumer) async -> PartitionCommitResult {
        do {
            try await producer.flush()
            try await consumer.commit(lastProcessed: items.reduce(into: [:]) { $0.merge($1.offsets) { max($0, $1) } })
            return .committed
        } catch {
            return .aborted(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"), failures: [])
        }
    }

    /// Takes the results of the commit that was out, if it has returned: committed partitions move on,
    /// failed ones are prepared again; then the open round's outputs go into new transactions.
    func land(_ owned: Owned, _ context: Context) async throws {
        guard let flight = owned.flight, let results = flight.results else { return }
        owned.flight = nil
        let duration = ContinuousClock.now - flight.started
        logger.trace(
            "round committed",
            metadata: [
                "souk.records": "\(flight.rounds.values.reduce(0) { $0 + $1.processed })", "souk.partitions": "\(flight.items.count)",
                "souk.commit_ms": "\(duration.nanoseconds / 1_000_000)", "souk.next_records": "\(owned.openRecords)",
            ]
        )
        var committed: Set<Int32> = []
        for (item, result) in zip(flight.items, results) {
            guard let owner = owned.owners[item.partition], owner.token == item.token else { continue }
            owner.inTransaction = false
            let summary = flight.rounds[item.partition]
            switch result {
            case .committed:
                owner.committed(item.offsets, closing: item.closing)
                committed.insert(item.partition)
                health.committed(healthName)
                if let summary {
                    metrics.recordRound(summary, partition: item.partition, duration: duration, committed: true)
                    if !summary.oversizedStates.isEmpty {
                        logger.error(
                            "a state value outgrew its limit; the records that would have grown it went to the dead-letter topic",
                            metadata: ["kafka.partition": "\(item.partition)", "souk.keys": "\(summary.oversizedStates)", "souk.limit": "\(processor.maxStateBytes)"]
                        )
                    }
                }
                for (input, offset) in item.offsets {
                    if let high = context.consumer.cachedHighWatermark(input) { metrics.recordLag(input, lag: max(0, high - offset - 1)) }
                }
            case .skipped:
                if configuration.mayHaveBeenAway(context.consumer) {
                    metrics.recordAwaySkip()
                    logger.info("commit skipped: the worker went most of a session without polling", metadata: ["kafka.partition": "\(item.partition)"])
                }
                // A revoked partition goes with its rebalance; one kept is prepared again once the group has had its say.
                if !rebalances.revokes(item.partition) {
                    await fail(item.partition, owned, context, error: nil, after: configuration.awayQuarantine(context.consumer))
                }
            case .aborted(let error, let failures):
                for failure in failures where failure.error.isPermanentDeliveryFailure {
                    guard failure.tag < item.origins.count, let origin = item.origins[failure.tag] else { continue }
                    owned.poisoned[item.partition, default: [:]][origin] = "output failed for good: \(failure.error)"
                }
                if let summary { metrics.recordRound(summary, partition: item.partition, duration: duration, committed: false) }
                logger.warning("a commit aborted; preparing the partition again", metadata: ["kafka.partition": "\(item.partition)", "kafka.error": "\(error)"])
                await fail(item.partition, owned, context, error: error, after: configuration.awayQuarantine(context.consumer))
            case .unknown(let error):
                metrics.recordLostCommit()
                if let summary { metrics.recordRound(summary, partition: item.partition, duration: duration, committed: false) }
                logger.error(
                    "a commit's outcome is unknown; restoring the partition from its changelog",
                    metadata: ["kafka.partition": "\(item.partition)", "kafka.error": "\(error)"]
                )
                await fail(item.partition, owned, context, error: error, after: configuration.awayQuarantine(context.consumer))
            case .fenced(let error):
                logger.error(
                    "fenced by another owner of the partition; preparing it again unless the group takes it away",
                    metadata: ["kafka.partition": "\(item.partition)", "kafka.error": "\(error)"]
                )
                await fail(item.partition, owned, context, error: error, after: configuration.sessionTimeout * 2)
            }
        }
        if let snapshotter = context.snapshotter {
            for partition in committed {
                guard let snapshot = owned.snapshots.removeValue(forKey: partition) else { continue }
                try await snapshotter.save(snapshot, partition: partition, worker: self, jobs: context.jobs)
            }
            owned.snapshots = owned.snapshots.filter { !committed.contains($0.key) && owned.owners[$0.key]?.isReady == true }
        }
        // The round handled meanwhile: its outputs go into new transactions now.
        for partition in owned.open.keys.sorted() {
            guard let owner = owned.owners[partition], owner.isReady, var round = owned.open.removeValue(forKey: partition) else { continue }
            if await produce(&round, owner, owned, context) { owned.open[partition] = round }
        }
        if !owned.heldBack.isEmpty {
            let stillReady = Set(readyInputs(owned))
            try? await context.consumer.resume(owned.heldBack.filter { stillReady.contains($0) })
            owned.heldBack = []
        }
    }

    /// A partition whose transaction failed (or whose outcome is unknown): its state and its share of
    /// the open round go, and it is prepared again from its changelog — after `delay`, when this
    /// worker may have been away or was fenced (the group takes the partition away meanwhile if it
    /// moved). Its state never comes from a guess.
    func fail(_ partition: Int32, _ owned: Owned, _ context: Context, error: KafkaError?, after delay: Duration = .zero) async {
        guard let owner = owned.owners[partition] else { return }
        context.consumer.wakeup()
        try? await context.consumer.pause(inputs(partition))
        if error != nil {
            owner.failed()
            health.aborted(healthName)
        }
        let failingSince = owner.failingSince ?? .now
        startPreparing(partition, owned, context, after: delay)
        owned.owners[partition]?.phase = .preparing(since: failingSince)
    }

    // MARK: - Idle partitions

    /// Commits the carried offsets of partitions that have seen nothing but no-op records for a while,
    /// and the position markers of idle partitions (`idleCommits`).
    func commitDueCarries(_ owned: Owned, _ context: Context) async throws {
        guard configuration.exactlyOnce else { return }
        let idle = await idleCommits(owned, consumer: context.consumer)
        let due = owned.owners.values.filter { owner in
            owner.isReady
                && ((owner.carriedSince.map { ContinuousClock.now - $0 >= configuration.carryLimit } ?? false) || idle.contains(owner.partition))
        }
        var items: [CommitItem] = []
        for owner in due.sorted(by: { $0.partition < $1.partition }) {
            // An idle partition whose last commit the broker left prepared commits again: on the local
            // broker that transaction folds the prepared one in, and with the flow quiet nothing
            // overlapping is open any more, so it finishes (see `StreamConfiguration.confirmCommits`).
            // One whose last commit finished closes with one more (see `idleCommits`).
            var offsets = owner.carried
            if idle.contains(owner.partition), let last = owner.lastCommit { offsets.merge(last.offsets) { max($0, $1) } }
            guard let (topicPartition, offset) = offsets.max(by: { $0.value < $1.value }) else { continue }
            var round = PartitionRound(partition: owner.partition)
            round.append(
                processor.positionMarker(partition: owner.partition, source: (topicPartition.topic, offset), version: owner.nextVersion()),
                origin: nil
            )
            guard await produce(&round, owner, owned, context) else { continue }
            items.append(
                CommitItem(
                    partition: owner.partition, producer: owner.producer, offsets: offsets, origins: round.origins, token: owner.token,
                    closing: idle.contains(owner.partition)
                )
            )
        }
        launch(items, [:], owned, context)
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
}
