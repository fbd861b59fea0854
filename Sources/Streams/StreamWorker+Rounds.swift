import Kafka
import Logging

// MARK: - Handling and producing

extension StreamWorker {
    /// Handles polled records partition by partition into the open round. While the producer is free
    /// (no commit out, not being replaced) their outputs go into its open transaction at once;
    /// otherwise they wait in the round until it is (`land`, `takeRenewedProducer`).
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
            for record in run.prefix(handled) { owner.next[record.topic] = record.offset + 1 }
            if handled < run.count {
                // Records past the batch's time bound were not handled: read them again (later runs of
                // the partition in this poll are stale now).
                try await rewind(context.consumer, partitionsOf: run.dropFirst(handled), owned)
            }
            owned.open[partition] = round
            if owned.openSince == nil { owned.openSince = .now }
            if canProduce(owned) { await produce(partition, owned, context) }
        }
    }

    /// Whether outputs can go into the producer's transaction now.
    func canProduce(_ owned: Owned) -> Bool {
        owned.flight == nil && (owned.producer != nil || !configuration.exactlyOnce)
    }

    /// Produces a partition's new messages of the open round: into the open transaction (beginning it
    /// first) on the producer's own thread, where a failure fails the commit; or, at least once,
    /// straight away.
    func produce(_ partition: Int32, _ owned: Owned, _ context: Context) async {
        guard var round = owned.open[partition] else { return }
        var (messages, origins) = round.takeMessages()
        owned.open[partition] = round
        guard !messages.isEmpty else { return }
        if let atLeastOnce = context.atLeastOnce {
            do {
                for message in messages where try !atLeastOnce.enqueue(message) { try await atLeastOnce.produce(message) }
            } catch {
                logger.warning("producing failed; preparing the partition again", metadata: ["kafka.partition": "\(partition)", "kafka.error": "\(error)"])
                await fail([partition], owned, context, error: error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"))
            }
            return
        }
        guard let producer = owned.producer else { return }
        if let owner = owned.owners[partition], !owner.claimed {
            // The changelog names its writer before any output of the partition goes out: a worker
            // killed in its first round leaves an open transaction that only that name lets the
            // partition's next owner end (nothing times transactions out on the local broker).
            let input = role.inputTopics[0]
            let claim = processor.positionMarker(partition: partition, source: (input, (owner.next[input] ?? 0) - 1), version: owner.nextVersion())
            messages.insert(claim, at: 0)
            origins.insert(nil, at: 0)
            owner.claimed = true
        }
        producer.produceInBackground(messages, firstTag: owned.origins.count, beginning: !owned.inTransaction)
        owned.inTransaction = true
        owned.origins += origins
    }

    /// While a commit is out (or the producer is being replaced) and the open round is full, its
    /// inputs are paused (the loop goes on polling, so the member stays in its group); `land` resumes them.
    func holdBackWhileFull(_ owned: Owned, _ context: Context) async throws {
        guard !canProduce(owned), owned.heldBack.isEmpty, owned.openRecords >= configuration.batchSize else { return }
        let inputs = readyInputs(owned)
        guard !inputs.isEmpty else { return }
        try await context.consumer.pause(inputs)
        owned.heldBack = inputs
    }

    func resumeHeldBack(_ owned: Owned, _ context: Context) async {
        guard !owned.heldBack.isEmpty else { return }
        let stillReady = Set(readyInputs(owned))
        try? await context.consumer.resume(owned.heldBack.filter { stillReady.contains($0) })
        owned.heldBack = []
    }
}

// MARK: - Committing

extension StreamWorker {
    /// Closes the open round (changelog records, dedupe buckets) and commits its transaction in a
    /// background job; the loop takes the result in `land`.
    func launchFlight(_ owned: Owned, _ context: Context) async throws {
        var partitions: [Int32: Int] = [:]
        var offsets: [KafkaTopicPartition: Int64] = [:]
        var summaries: [Int32: RoundSummary] = [:]
        for partition in owned.open.keys.sorted() {
            guard let owner = owned.owners[partition], owner.isReady, var round = owned.open[partition] else { continue }
            let version = owner.nextVersion()
            try processor.close(&round, version: version, rewrite: owner.rewrite, store: &owned.store)
            owned.open[partition] = round
            await produce(partition, owned, context)
            if let snapshotter = context.snapshotter, snapshotter.isDue(partition) {
                owned.snapshots[partition] = snapshotter.capture(owned.store, partition: partition, generation: version.generation)
            }
            partitions[partition] = owner.token
            offsets.merge(round.lastOffsets) { max($0, $1) }
            summaries[partition] = RoundSummary(
                processed: round.processed, emitted: round.emitted, duplicates: round.duplicates, deadLettered: round.deadLettered,
                oversizedStates: round.oversizedStates
            )
        }
        owned.open = [:]
        owned.openSince = nil
        launch(CommitFlight(partitions: partitions, offsets: offsets, origins: owned.origins, rounds: summaries, closing: false), owned, context)
    }

    /// Commits the open transaction (or, at least once, flushes and commits the offsets) in a job.
    func launch(_ flight: CommitFlight, _ owned: Owned, _ context: Context) {
        guard !flight.partitions.isEmpty else { return }
        owned.flight = flight
        owned.origins = []
        owned.inTransaction = false
        let consumer = context.consumer, rebalances = self.rebalances, configuration = self.configuration
        if let atLeastOnce = context.atLeastOnce {
            context.jobs.start {
                flight.land(await Self.commitAtLeastOnce(flight.offsets, producer: atLeastOnce, consumer: consumer))
                consumer.wakeup()
            }
            return
        }
        guard let producer = owned.producer else { return }
        let metadata = try? consumer.groupMetadata()
        let partitions = Array(flight.partitions.keys)
        context.jobs.start {
            let result = await CommitFlight.commit(producer, offsets: flight.offsets, metadata: metadata, bound: configuration.commitBound) {
                partitions.contains { Self.mustNotCommit($0, consumer: consumer, rebalances: rebalances, configuration: configuration) }
            }
            flight.land(result)
            consumer.wakeup()
        }
    }

    /// A partition the group took away, or one this worker may have lost while it was away, is never
    /// committed: its new owner may already have it.
    static func mustNotCommit(_ partition: Int32, consumer: KafkaConsumer, rebalances: RebalanceLog, configuration: StreamConfiguration) -> Bool {
        rebalances.revokes(partition) || consumer.isAssignmentLost || configuration.mayHaveBeenAway(consumer)
    }

    /// The at-least-once commit: every output acknowledged, then the offsets committed.
    private static func commitAtLeastOnce(_ offsets: [KafkaTopicPartition: Int64], producer: KafkaProducer, consumer: KafkaConsumer) async -> CommitResult {
        do {
            try await producer.flush()
            try await consumer.commit(lastProcessed: offsets)
            return .committed
        } catch {
            return .aborted(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"), failures: [])
        }
    }

    /// Takes the result of the commit that was out, if it has returned: its partitions move on, or,
    /// when it failed, are prepared again and the producer is replaced; then the open round's outputs
    /// go into a new transaction.
    func land(_ owned: Owned, _ context: Context) async throws {
        guard let flight = owned.flight, let result = flight.result else { return }
        owned.flight = nil
        let duration = ContinuousClock.now - flight.started
        // Only the partitions still owned by the preparation the commit was made for.
        let partitions = flight.partitions.compactMap { partition, token in owned.owners[partition]?.token == token ? partition : nil }.sorted()
        logger.trace(
            "round committed",
            metadata: [
                "souk.records": "\(flight.rounds.values.reduce(0) { $0 + $1.processed })", "souk.partitions": "\(partitions.count)",
                "souk.commit_ms": "\(duration.nanoseconds / 1_000_000)", "souk.next_records": "\(owned.openRecords)", "souk.outcome": "\(result)",
            ]
        )
        switch result {
        case .committed:
            owned.lastCommit = (flight.offsets, .now, flight.closing)
            for partition in partitions { owned.owners[partition]?.committed() }
            health.committed(healthName)
            for (partition, summary) in flight.rounds {
                metrics.recordRound(summary, partition: partition, duration: duration, committed: true)
                if !summary.oversizedStates.isEmpty {
                    logger.error(
                        "a state value outgrew its limit; the records that would have grown it went to the dead-letter topic",
                        metadata: ["kafka.partition": "\(partition)", "souk.keys": "\(summary.oversizedStates)", "souk.limit": "\(processor.maxStateBytes)"]
                    )
                }
            }
            for (input, offset) in flight.offsets {
                if let high = context.consumer.cachedHighWatermark(input) { metrics.recordLag(input, lag: max(0, high - offset - 1)) }
            }
            if let snapshotter = context.snapshotter {
                for partition in partitions {
                    guard let snapshot = owned.snapshots.removeValue(forKey: partition) else { continue }
                    try await snapshotter.save(snapshot, partition: partition, worker: self, jobs: context.jobs)
                }
            }
        case .skipped:
            if configuration.mayHaveBeenAway(context.consumer) {
                metrics.recordAwaySkip()
                logger.info("commit skipped: the worker went most of a session without polling", metadata: ["kafka.partitions": "\(partitions)"])
            }
            // Revoked partitions go with their rebalance; those kept are prepared again once the group
            // has had its say.
            await fail(partitions.filter { !rebalances.revokes($0) }, owned, context, error: nil, after: configuration.awayQuarantine(context.consumer))
        case .aborted(let error, let failures):
            for failure in failures where failure.error.isPermanentDeliveryFailure {
                guard failure.tag < flight.origins.count, let origin = flight.origins[failure.tag] else { continue }
                owned.poisoned[origin.partition, default: [:]][origin] = "output failed for good: \(failure.error)"
            }
            for (partition, summary) in flight.rounds { metrics.recordRound(summary, partition: partition, duration: duration, committed: false) }
            logger.warning("a commit aborted; preparing its partitions again", metadata: ["kafka.partitions": "\(partitions)", "kafka.error": "\(error)"])
            await fail(partitions, owned, context, error: error, after: configuration.awayQuarantine(context.consumer))
        case .unknown(let error):
            metrics.recordLostCommit()
            for (partition, summary) in flight.rounds { metrics.recordRound(summary, partition: partition, duration: duration, committed: false) }
            logger.error(
                "a commit's outcome is unknown; restoring its partitions from their changelogs",
                metadata: ["kafka.partitions": "\(partitions)", "kafka.error": "\(error)"]
            )
            await fail(partitions, owned, context, error: error, after: configuration.awayQuarantine(context.consumer))
        case .fenced(let error):
            logger.warning(
                "fenced by a partition's new owner; preparing the round's partitions again unless the group takes them away",
                metadata: ["kafka.partitions": "\(partitions)", "kafka.error": "\(error)"]
            )
            await fail(partitions, owned, context, error: error, after: configuration.awayQuarantine(context.consumer))
        }
        owned.snapshots = owned.snapshots.filter { owned.owners[$0.key]?.isReady == true && flight.partitions[$0.key] == nil }
        // The round handled meanwhile: its outputs go into a new transaction now.
        if canProduce(owned) {
            for partition in owned.open.keys.sorted() { await produce(partition, owned, context) }
        }
        await resumeHeldBack(owned, context)
    }

    /// Partitions whose transaction failed (or whose outcome is unknown): their state and their share
    /// of the open round go, and they are prepared again from their changelogs — after `delay`, when
    /// this worker may have been away (the group takes the partitions away meanwhile if they moved).
    /// Their state never comes from a guess. The producer is replaced: the local broker may never
    /// finish the abort it was asked for, and only a new producer under the same id ends it.
    func fail(_ partitions: [Int32], _ owned: Owned, _ context: Context, error: KafkaError?, after delay: Duration = .zero) async {
        if error != nil { health.aborted(healthName) }
        if configuration.exactlyOnce, owned.producer != nil { renewProducer(owned, context, sealingOn: partitions.first) }
        await reprepare(partitions.filter { owned.owners[$0] != nil }, owned, context, failing: error != nil, after: delay)
    }

    private func reprepare(_ partitions: [Int32], _ owned: Owned, _ context: Context, failing: Bool, after delay: Duration) async {
        guard !partitions.isEmpty else { return }
        context.consumer.wakeup()
        try? await context.consumer.pause(partitions.flatMap(inputs))
        for partition in partitions.sorted() {
            guard let owner = owned.owners[partition] else { continue }
            if failing { owner.failed() }
            let failingSince = owner.failingSince ?? .now
            startPreparing(partition, owned, context, after: delay)
            owned.owners[partition]?.phase = .preparing(since: failingSince)
        }
    }

    // MARK: - Idle

    /// When the worker is idle, `confirmInterval` after its last commit: one OffsetFetch tells whether
    /// the group shows that commit's offsets.
    /// - While it does not, the broker still holds the commit prepared: the worker commits again (on
    ///   the local broker that transaction folds the prepared one in, and with the flow quiet nothing
    ///   overlapping is open any more, so it finishes).
    /// - Once it does, the worker closes the quiet spell with one more transaction, once: on the local
    ///   broker `EndTxn` writes its control markers after marking the transaction prepared, and if
    ///   another producer's `EndTxn` finishes it meanwhile, the later markers are recorded against the
    ///   finished transaction, which then blocks every transaction overlapping it. Only the same
    ///   producer's next transaction reopens and clears it; an idle worker would never make one.
    func idleCommit(_ owned: Owned, _ context: Context) async {
        guard configuration.exactlyOnce, configuration.confirmCommits, canProduce(owned), let last = owned.lastCommit,
            ContinuousClock.now - last.at >= configuration.confirmInterval
        else { return }
        let owners = owned.owners.values.filter(\.isReady).sorted { $0.partition < $1.partition }
        let offsets = last.offsets.filter { owners.map(\.partition).contains($0.key.partition) }
        guard let marked = owners.first, !offsets.isEmpty else {
            owned.lastCommit = nil
            return
        }
        context.consumer.wakeup()
        guard let committed = try? await context.consumer.committed(Array(offsets.keys)) else { return }
        let shown = offsets.allSatisfy { (committed[$0.key] ?? -1) > $0.value }
        if !shown { metrics.recordUnconfirmedCommit() }
        if shown && last.closing {
            owned.lastCommit = nil
            return
        }
        guard let (input, offset) = offsets.first(where: { $0.key.partition == marked.partition }).map({ ($0.key, $0.value) }) else {
            owned.lastCommit = nil
            return
        }
        var round = PartitionRound(partition: marked.partition)
        round.appendChangelog(processor.positionMarker(partition: marked.partition, source: (input.topic, offset), version: marked.nextVersion()))
        owned.open[marked.partition] = round
        await produce(marked.partition, owned, context)
        owned.open = [:]
        launch(
            CommitFlight(
                partitions: Dictionary(uniqueKeysWithValues: owners.filter { owner in offsets.keys.contains { $0.partition == owner.partition } }.map { ($0.partition, $0.token) }),
                offsets: offsets, origins: owned.origins, rounds: [:], closing: shown
            ),
            owned, context
        )
    }
}
