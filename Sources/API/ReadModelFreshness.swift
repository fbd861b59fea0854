import Foundation
import Kafka
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// How far the read models have got, for the `Souk-Read-Position` and `Souk-Read-Lag` headers of every
/// query: per event topic, the next offset the projector will apply on each partition, and how many
/// committed events it has not applied yet.
///
/// Looked up in the background every `interval`, so a query costs nothing extra; a header therefore
/// describes the read model as of at most one interval ago. The same loop forgets expired
/// idempotency keys.
public final class ReadModelFreshness: Service, Sendable {
    struct Snapshot: Sendable {
        var positions: [String: [Int32: Int64]] = [:]
        var lag: [String: Int64] = [:]
    }

    private let snapshot = Mutex(Snapshot())
    private let database: PostgresConnection
    private let admin: KafkaAdminClient?
    private let topics: [String]
    private let projector: String
    private let interval: Duration
    private let idempotency: IdempotencyStore?
    private let logger: Logger

    public init(
        database: PostgresConnection, admin: KafkaAdminClient?, topics: [String], projector: String = "readmodels", interval: Duration,
        idempotency: IdempotencyStore?, logger: Logger
    ) {
        self.database = database
        self.admin = admin
        self.topics = topics
        self.projector = projector
        self.interval = interval
        self.idempotency = idempotency
        self.logger = logger
    }

    public static let positionHeader = "Souk-Read-Position"
    public static let lagHeader = "Souk-Read-Lag"

    /// `topic 0:12 1:40 …; topic …` for the topics a route reads, and their summed lag when known.
    func headers(for sources: [String]) -> [(String, String)] {
        guard !sources.isEmpty else { return [] }
        let current = snapshot.withLock { $0 }
        let position = sources.map { topic in
            let partitions = current.positions[topic] ?? [:]
            return ([topic] + partitions.keys.sorted().map { "\($0):\(partitions[$0]!)" }).joined(separator: " ")
        }.joined(separator: "; ")
        var headers = [(Self.positionHeader, position)]
        let lags = sources.compactMap { current.lag[$0] }
        if lags.count == sources.count { headers.append((Self.lagHeader, String(lags.reduce(0, +)))) }
        return headers
    }

    public func run() async throws {
        var partitions: [KafkaTopicPartition] = []
        var lastPurge = ContinuousClock.now - .seconds(3600)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Until every source topic exists (an API may start before `souk topics apply`).
                if Set(partitions.map(\.topic)).count < topics.count, let admin { partitions = try await Self.partitions(of: topics, admin) }
                try await refresh(partitions)
            } catch {
                logger.info("read-model position not refreshed", metadata: ["error": "\(error)"])
            }
            if let idempotency, ContinuousClock.now - lastPurge > .seconds(600) {
                lastPurge = ContinuousClock.now
                if let purged = try? await idempotency.purge(), purged > 0 { logger.info("idempotency keys expired", metadata: ["count": "\(purged)"]) }
            }
            try? await Task.sleep(for: interval)
        }
    }

    func refresh(_ partitions: [KafkaTopicPartition]) async throws {
        let rows = try await database.query(
            "SELECT topic, kafka_partition, next_offset FROM projection_positions WHERE projector = $1", [projector]
        ).records
        var next: [KafkaTopicPartition: Int64] = [:]
        for row in rows {
            guard let topic = row["topic"] ?? nil, let partition = (row["kafka_partition"] ?? nil).flatMap(Int32.init),
                let offset = (row["next_offset"] ?? nil).flatMap(Int64.init)
            else { continue }
            next[KafkaTopicPartition(topic: topic, partition: partition)] = offset
        }
        var positions: [String: [Int32: Int64]] = [:]
        for partition in partitions { positions[partition.topic, default: [:]][partition.partition] = next[partition] ?? 0 }
        for (partition, offset) in next { positions[partition.topic, default: [:]][partition.partition] = offset }

        var lag: [String: Int64]? = nil
        if let admin, !partitions.isEmpty {
            let ends = try await admin.endOffsets(partitions)
            let starts = Dictionary(uniqueKeysWithValues: partitions.map { ($0, next[$0] ?? 0) })
            // Commit markers sit between the last event and the end: count records, not offsets.
            let counts = try await admin.countRecords(from: starts, to: ends)
            var perTopic: [String: Int64] = [:]
            for partition in partitions {
                perTopic[partition.topic, default: 0] += counts[partition] ?? max(0, (ends[partition] ?? 0) - (starts[partition] ?? 0))
            }
            lag = perTopic
        }
        snapshot.withLock { snapshot in
            snapshot.positions = positions
            if let lag { snapshot.lag = lag }
        }
    }

    static func partitions(of topics: [String], _ admin: KafkaAdminClient) async throws -> [KafkaTopicPartition] {
        var partitions: [KafkaTopicPartition] = []
        for topic in topics {
            guard let description = try await admin.describeTopic(topic) else { continue }
            partitions += (0..<description.partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        }
        return partitions
    }
}
