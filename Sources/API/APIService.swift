import Foundation
import Hummingbird
import Kafka
import Logging
import Postgres
import Projections
import Redis
import ServiceLifecycle
import Streams

/// The HTTP API as one lifecycle service: the Hummingbird server, the outcome watcher and the
/// read-model freshness loop, all stopped together on graceful shutdown.
public final class APIService: Service {
    private let configuration: APIConfiguration
    private let bootstrapServers: String
    private let postgresURL: String
    private let redisURL: String?
    private let health: WorkerHealth
    private let metrics: @Sendable () -> [UInt8]
    private let logger: Logger
    private let publisher: (any CommandPublisher)?

    /// - Parameter publisher: where commands go; by default a Kafka producer on `bootstrapServers`.
    public init(
        configuration: APIConfiguration, bootstrapServers: String, postgresURL: String, redisURL: String?, health: WorkerHealth,
        metrics: @escaping @Sendable () -> [UInt8], logger: Logger, publisher: (any CommandPublisher)? = nil
    ) {
        self.configuration = configuration
        self.bootstrapServers = bootstrapServers
        self.postgresURL = postgresURL
        self.redisURL = redisURL
        self.health = health
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "souk.service"] = "api"
        self.logger = logger
        self.publisher = publisher
    }

    public func run() async throws {
        health.register("api", stallThreshold: .seconds(30))
        defer { health.markStopped("api") }
        logger.info("starting", metadata: ["api.configuration": "\(configuration.redactedDescription)"])
        let parts = try await APIService.assemble(
            configuration: configuration, bootstrapServers: bootstrapServers, postgresURL: postgresURL, redisURL: redisURL, health: health,
            metrics: metrics, logger: logger, publisher: publisher
        )
        let application = Application(
            router: try parts.router.build(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "souk-api"),
            onServerRunning: { [health] _ in health.markReady("api") },
            logger: logger
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await parts.router.outcomes.run() }
            if let freshness = parts.router.freshness { group.addTask { try await freshness.run() } }
            try await application.run()
            group.cancelAll()
        }
        try? await (parts.ownPublisher)?.close()
    }

    struct Parts {
        var router: APIRouter
        var ownPublisher: KafkaCommandPublisher?
    }

    /// Connects to PostgreSQL, Redis and Kafka and builds the router. Also what router tests use.
    static func assemble(
        configuration: APIConfiguration, bootstrapServers: String, postgresURL: String, redisURL: String?, health: WorkerHealth,
        metrics: @escaping @Sendable () -> [UInt8], logger: Logger, publisher: (any CommandPublisher)?
    ) async throws -> Parts {
        var databases: [PostgresConnection] = []
        for _ in 0..<max(1, configuration.databaseConnections) { databases.append(try await PostgresConnection.connect(postgresURL)) }
        try await ReadModelSchema.migrate(databases[0])
        try await IdempotencyStore.migrate(databases[0])
        var caches: [RedisConnection] = []
        if let redisURL {
            for _ in 0..<max(1, configuration.databaseConnections) { caches.append(try await RedisConnection.connect(redisURL)) }
        }
        let backend = QueryBackend(databases: databases, caches: caches)
        let idempotency = IdempotencyStore(database: backend.databases, retention: configuration.idempotencyRetention)
        let ownPublisher = publisher == nil ? try KafkaCommandPublisher(bootstrapServers: bootstrapServers, logger: logger) : nil
        let admin = try? KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        let sources = Array(Set(APIRoutes.operations.flatMap { operation -> [String] in
            if case .query(let route) = operation.action { return route.sources }
            return []
        })).sorted()
        let freshness = ReadModelFreshness(
            database: try await PostgresConnection.connect(postgresURL), admin: admin, topics: sources, interval: configuration.freshnessInterval,
            idempotency: idempotency, logger: logger
        )
        let router = APIRouter(
            ingestor: CommandIngestor(publisher: publisher ?? ownPublisher!, idempotency: idempotency, logger: logger),
            backend: backend,
            outcomes: OutcomeWatcher(
                backend: backend, maxWaiters: configuration.maxOutcomeWaiters, maxWaitersPerCaller: configuration.maxOutcomeWaitersPerCaller, logger: logger
            ) { health.progressed("api") },
            freshness: freshness,
            authenticator: try await Authenticator(apiKeys: configuration.apiKeys, jwt: configuration.jwt),
            health: health,
            metrics: metrics,
            maxBodyBytes: configuration.maxBodyBytes,
            maxOutcomeWait: configuration.maxOutcomeWait
        )
        return Parts(router: router, ownPublisher: ownPublisher)
    }
}
