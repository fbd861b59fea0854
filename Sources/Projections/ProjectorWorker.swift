import Foundation
import Kafka
import Logging
import Postgres
import Redis
import ServiceLifecycle
import Streams
import Timestamps

/// Consumes event topics and applies each batch to PostgreSQL in one transaction, together with the
/// Kafka position it reached, and resumes from that position: a restart or a replay never applies an
/// event twice (and the archive, unique on the event id, drops copies that arrive twice anyway).
public final class ProjectorWorker: Service {
    public let name: String
    public let topics: [String]
    private let bootstrapServers: String
    private let timings: KafkaConsumerTimings
    private let postgresURL: String
    private let redisURL: String?
    private let leaveGroupOnClose: Bool
    private let logger: Logger
    private let health: WorkerHealth
    private let rebalances = RebalanceLog()

    public init(
        name: String = "readmodels",
        topics: [String],
        bootstrapServers: String,
        timings: KafkaConsumerTimings,
        postgresURL: String,
        redisURL: String? = nil,
        leaveGroupOnClose: Bool = true,
        logger: Logger,
        health: WorkerHealth = WorkerHealth()
    ) {
        self.name = name
        self.topics = topics
        self.bootstrapServers = bootstrapServers
        self.timings = timings
        self.postgresURL = postgresURL
        self.redisURL = redisURL
        self.leaveGroupOnClose = leaveGroupOnClose
        var logger = logger
        logger[metadataKey: "souk.projector"] = .string(name)
        self.logger = logger
        self.health = health
    }

    private var healthName: String { "projector-\(name)" }

    public func run() async throws {
        health.register(healthName, stallThreshold: .seconds(30))
        defer { health.markStopped(healthName) }
        let database = try await PostgresConnection.connect(postgresURL)
        try await ReadModelSchema.migrate(database)
        let cache = try await redisURL.asyncMap { ReadCache(redis: try await RedisConnection.connect($0)) }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: bootstrapServers, groupID: "souk-projector-\(name)", clientID: "souk-projector-\(name)", timings: timings
            ),
            logger: logger,
            rebalanceListener: { [rebalances] event in rebalances.append(event) },
            // Nothing of a new partition is fetched before it is sought to its stored position.
            pauseOnAssign: true
        )
        try await consumer.subscribe(topics: topics)
        do {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try await projectNextBatch(consumer, database, cache)
            }
        } catch {
            logger.error("projector stopped by error", metadata: ["error": "\(error)"])
            try? await consumer.close(leavingGroup: leaveGroupOnClose)
            throw error
        }
        try await consumer.close(leavingGroup: leaveGroupOnClose)
    }

    private func projectNextBatch(_ consumer: KafkaConsumer, _ database: PostgresConnection, _ cache: ReadCache?) async throws {
        var batch = try await consumer.poll(maxMessages: 1000, timeout: .milliseconds(100))
        // Assigned and not revoked again within the same drain (a restart's rebalances come in bursts).
        var fresh = Set<KafkaTopicPartition>()
        for event in rebalances.drain() {
            switch event {
            case .assigned(let partitions, _): fresh.formUnion(partitions)
            case .revoked(let partitions, let cooperative): if cooperative { fresh.subtract(partitions) } else { fresh.removeAll() }
            }
        }
        if !fresh.isEmpty {
            // Records fetched before the seek start from the wrong place: drop them, read again.
            batch.removeAll { fresh.contains($0.topicPartition) }
            try await resume(consumer, database, fresh.sorted())
            health.markReady(healthName)
        }
        health.progressed(healthName)
        guard !batch.isEmpty else { return }
        let stale = try await apply(batch, database)
        // After the commit, so that a reader that misses the cache finds the new rows.
        if let cache, !stale.isEmpty { try await cache.invalidate(stale) }
        var last: [KafkaTopicPartition: Int64] = [:]
        for message in batch { last[message.topicPartition] = message.offset }
        // PostgreSQL holds the truth; the group's offsets only make `souk lag` show progress.
        try? await consumer.commit(lastProcessed: last)
    }

    /// Seeks newly assigned partitions to the positions stored with the read models.
    private func resume(_ consumer: KafkaConsumer, _ database: PostgresConnection, _ partitions: [KafkaTopicPartition]) async throws {
        let rows = try await database.query("SELECT topic, kafka_partition, next_offset FROM projection_positions WHERE projector = $1", [name])
        var stored: [KafkaTopicPartition: Int64] = [:]
        for record in rows.records {
            guard let topic = record["topic"] ?? nil, let partition = (record["kafka_partition"] ?? nil).flatMap(Int32.init),
                let offset = (record["next_offset"] ?? nil).flatMap(Int64.init)
            else { continue }
            stored[KafkaTopicPartition(topic: topic, partition: partition)] = offset
        }
        let positions = partitions.map { KafkaTopicPartitionOffset($0, offset: stored[$0].map(KafkaOffset.init) ?? .beginning) }
        // A partition whose fetcher has not started yet refuses a seek (`_STATE`) for a moment.
        for attempt in 1... {
            do {
                try await consumer.seek(positions)
                break
            } catch let error as KafkaError where error.kind == .invalidState && attempt < 50 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try await consumer.resume(partitions)
        logger.info("resumed", metadata: ["kafka.positions": "\(positions.map { "\($0.topicPartition)@\($0.offset)" })"])
    }

    /// - Returns: the cache keys the batch made stale.
    private func apply(_ batch: [KafkaConsumerMessage], _ database: PostgresConnection) async throws -> [String] {
        let events = batch.map(ProjectedEvent.init)
        do {
            // Two projector instances (a rebalance, a zombie) may write the same rows in another
            // order: a deadlock or serialization failure rolls the batch back, and it is applied again.
            var attempt = 0
            while true {
                attempt += 1
                do {
                    return try await apply(events, database, settingAsidePoison: false)
                } catch let error as PostgresError where ["40P01", "40001"].contains(error.sqlState) && attempt < 10 {
                    logger.info("batch rolled back by a concurrent writer; applying it again", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: .milliseconds(20 * attempt))
                }
            }
        } catch where Self.isPoison(error) {
            // An event the read models cannot take (a value out of a column's range, a payload that is
            // not its type): the batch again, one event at a time, setting aside those that fail.
            logger.warning("batch refused by the read models; applying it event by event", metadata: ["error": "\(error)"])
            return try await apply(events, database, settingAsidePoison: true)
        }
    }

    private func apply(_ events: [ProjectedEvent], _ database: PostgresConnection, settingAsidePoison: Bool) async throws -> [String] {
        let projector = name
        let logger = logger
        return try await database.transaction { session in
            var next: [KafkaTopicPartition: Int64] = [:]
            var stale = Set<String>()
            for event in events {
                next[KafkaTopicPartition(topic: event.topic, partition: event.partition)] = event.offset + 1
                func project() throws {
                    if try EventProjection.apply(event, in: session) { stale.formUnion(ReadCache.keys(invalidatedBy: event)) }
                }
                guard settingAsidePoison else {
                    try project()
                    continue
                }
                try session.query("SAVEPOINT souk_event")
                do {
                    try project()
                    try session.query("RELEASE SAVEPOINT souk_event")
                } catch where Self.isPoison(error) {
                    try session.query("ROLLBACK TO SAVEPOINT souk_event")
                    try ProjectionDeadLetters.record(event, projector: projector, reason: "\(error)", in: session)
                    logger.warning(
                        "event set aside",
                        metadata: ["event.id": "\(event.id)", "kafka.topic": "\(event.topic)", "kafka.offset": "\(event.offset)", "error": "\(error)"]
                    )
                }
            }
            for (partition, offset) in next {
                try session.query(
                    """
                    INSERT INTO projection_positions (projector, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (projector, topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(projection_positions.next_offset, $4)
                    """,
                    [projector, partition.topic, String(partition.partition), String(offset)]
                )
            }
            return stale.sorted()
        }
    }

    /// Whether `error` is about the event rather than the database being unreachable or busy: those
    /// stop the projector (its supervisor restarts it and it resumes from its stored positions).
    static func isPoison(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return true }
        // 08 connection, 40 rollback, 53 resources, 57 operator intervention, 58 system, XX internal.
        let transient = ["08", "40", "53", "57", "58", "XX"]
        return !error.sqlState.isEmpty && !transient.contains(String(error.sqlState.prefix(2)))
    }
}

extension ProjectedEvent {
    init(_ message: KafkaConsumerMessage) {
        let headers = message.headers
        let time = headers.string(CloudEventHeader.time).flatMap { Date(rfc3339: $0) }
        self.init(
            id: headers.string(CloudEventHeader.id) ?? MessageID.position(topic: message.topic, partition: message.partition, offset: message.offset),
            type: headers.string(CloudEventHeader.type) ?? "unknown",
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
            key: message.keyString,
            correlationID: headers.string(CloudEventHeader.correlationID),
            causationID: headers.string(CloudEventHeader.causationID),
            occurredAt: time ?? Date(timeIntervalSince1970: Double(message.timestampMilliseconds ?? 0) / 1000),
            payload: message.value ?? []
        )
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
