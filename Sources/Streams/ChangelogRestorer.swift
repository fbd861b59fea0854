import Foundation
import JSONCodec
import Kafka
import Logging

/// Rebuilds the state of assigned partitions from the role's changelog topic.
///
/// Reads `read_uncommitted` to the end of each partition (so that a transaction left open by a killed
/// worker cannot stall the restore) and keeps only records whose source input offset the group has
/// committed: the others belong to transactions that were aborted or are still open. Among those, per
/// key, the highest `ChangelogVersion` wins (see `ChangelogSource`).
public struct ChangelogRestorer<State: Codable & Sendable & Equatable>: Sendable {
    let changelogTopic: String
    let bootstrapServers: String
    let logger: Logger
    let timeout: Duration
    let snapshots: StateSnapshots?
    /// Checks a snapshot's offset against the changelog; one is made when snapshots are given without it.
    let admin: KafkaAdminClient?

    public init(
        changelogTopic: String,
        bootstrapServers: String,
        logger: Logger,
        timeout: Duration = .seconds(120),
        snapshots: StateSnapshots? = nil,
        admin: KafkaAdminClient? = nil
    ) {
        self.changelogTopic = changelogTopic
        self.bootstrapServers = bootstrapServers
        self.logger = logger
        self.timeout = timeout
        self.snapshots = snapshots
        self.admin = admin
    }

    /// Where each partition's restore starts: a usable snapshot's offset and entries, else the beginning.
    private struct StartingPoint {
        var offset: KafkaOffset
        var entries: [String: StoredState<State>] = [:]
        var versions: [String: ChangelogVersion] = [:]
        var generation: Int64 = 0
    }

    private func startingPoints(_ partitions: [Int32]) async throws -> [Int32: StartingPoint] {
        var points: [Int32: StartingPoint] = [:]
        let admin = snapshots == nil ? nil : try self.admin ?? KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        for partition in partitions {
            points[partition] = StartingPoint(offset: .beginning)
            guard let snapshots, let admin, let snapshot = snapshots.load(changelogTopic, partition: partition, as: State.self) else { continue }
            // A changelog that was recreated or truncated no longer matches the snapshot.
            let (low, high) = try await admin.watermarks(KafkaTopicPartition(topic: changelogTopic, partition: partition))
            if snapshot.changelogOffset >= low && snapshot.changelogOffset <= high {
                points[partition] = StartingPoint(
                    offset: KafkaOffset(snapshot.changelogOffset), entries: snapshot.entries, versions: snapshot.versions ?? [:],
                    generation: snapshot.generation ?? 0
                )
                logger.info(
                    "restoring from snapshot",
                    metadata: ["kafka.partition": "\(partition)", "kafka.offset": "\(snapshot.changelogOffset)", "souk.keys": "\(snapshot.entries.count)"]
                )
            } else {
                snapshots.discard(changelogTopic, partition: partition)
            }
        }
        return points
    }

    /// - Parameter committed: the group's committed offset per input topic for each partition.
    public func restore(
        partitions: [Int32],
        committed: [KafkaTopicPartition: Int64]
    ) async throws -> [Int32: [String: StoredState<State>]] {
        try await restorePartitions(partitions, committed: committed).mapValues(\.entries)
    }

    /// One partition's state as a new owner takes it over.
    public struct Restored: Sendable {
        public var entries: [String: StoredState<State>]
        public var versions: [String: ChangelogVersion]
        /// The highest generation any owner wrote with: the new owner writes with the next one.
        public var generation: Int64
        /// Keys that records of uncommitted (aborted, open or lost) transactions touched: the new
        /// owner writes them again, so that those records never win a later restore.
        public var leftovers: Set<String>
        public var records: Int
    }

    /// Rebuilds each partition: per key the record with the highest version among those whose source
    /// offset the group has committed, on top of a usable snapshot.
    ///
    /// - Parameter progress: called after every poll that read records, so a long restore counts as
    ///   progress for the worker's liveness.
    public func restorePartitions(
        _ partitions: [Int32],
        committed: [KafkaTopicPartition: Int64],
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> [Int32: Restored] {
        guard !partitions.isEmpty else { return [:] }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: bootstrapServers,
                groupID: "souk-restore",
                clientID: "souk-restore",
                isolationLevel: .readUncommitted,
                additional: ["enable.partition.eof": "true", "fetch.wait.max.ms": "10"]
            ),
            logger: logger
        )
        let points = try await startingPoints(partitions)
        try await consumer.assign(partitions.map { KafkaTopicPartitionOffset(topic: changelogTopic, partition: $0, offset: points[$0]!.offset) })
        var restored: [Int32: Restored] = [:]
        for partition in partitions {
            let point = points[partition]!
            restored[partition] = Restored(entries: point.entries, versions: point.versions, generation: point.generation, leftovers: [], records: 0)
        }
        var remaining = Set(partitions)
        let deadline = ContinuousClock.now + timeout
        while !remaining.isEmpty {
            try Task.checkCancellation()
            guard ContinuousClock.now < deadline else {
                throw KafkaError(kind: .retriable, codeName: "_TIMED_OUT", message: "restoring \(changelogTopic) partitions \(remaining.sorted()) took longer than \(timeout)")
            }
            let batch = try await consumer.pollBatch(maxMessages: 10_000, timeout: .milliseconds(100))
            for message in batch.messages {
                guard let source = ChangelogSource(headers: message.headers) else { continue }
                let key = message.keyString ?? ""
                restored[message.partition]!.records += 1
                restored[message.partition]!.generation = max(restored[message.partition]!.generation, source.version.generation)
                if key == ChangelogMarker.positionKey { continue }
                let sourcePartition = KafkaTopicPartition(topic: source.topic, partition: message.partition)
                guard let committedOffset = committed[sourcePartition], source.offset < committedOffset else {
                    restored[message.partition]!.leftovers.insert(key)
                    continue
                }
                // Equal versions (records of one transaction, or written before versions existed): the later one wins.
                if let current = restored[message.partition]!.versions[key], current > source.version { continue }
                restored[message.partition]!.versions[key] = source.version
                if let value = message.value {
                    restored[message.partition]!.entries[key] = try SoukJSON.decode(StoredState<State>.self, from: value)
                } else {
                    restored[message.partition]!.entries[key] = nil
                }
            }
            if !batch.messages.isEmpty { progress(batch.messages.count) }
            for partition in batch.endOfPartition.keys { remaining.remove(partition.partition) }
        }
        try await consumer.close()
        return restored
    }
}
