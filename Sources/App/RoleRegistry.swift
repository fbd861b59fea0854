import API
import Carts
import Catalog
import Commerce
import Contracts
import Counting
import Customers
import Foundation
import Inventory
import Kafka
import Logging
import Orders
import Payments
import Projections
import Prometheus
import ServiceLifecycle
import Shipping
import Streams

/// The roles `souk run` knows, by name. Each business context adds its role here.
public enum RoleRegistry {
    /// What a role's worker is built from.
    public struct Context: Sendable {
        public var configuration: StreamConfiguration
        public var environment: SoukEnvironment
        public var logger: Logger
        public var health: WorkerHealth
        /// The process's metrics, for roles that serve `/metrics` themselves (the API).
        public var metrics: PrometheusCollectorRegistry
    }

    /// Builds one role's worker, creating the topics that only that role uses.
    public typealias Factory = @Sendable (Context) async throws -> any Service

    public static let roles: [String: Factory] = [
        "catalog": { context in
            StreamWorker(role: CatalogRole(), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "customer": { context in
            StreamWorker(role: CustomerRole(), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "cart": { context in
            StreamWorker(role: CartRole(coupons: try CouponBook.load()), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "inventory": { context in
            let ttl = try context.environment.seconds("SOUK_RESERVATION_TTL_SECONDS", default: 900)
            return StreamWorker(role: InventoryRole(reservationTTL: ttl), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "order-saga": { context in
            let settings = try context.environment.sagaDeadlines
            let deadlines = OrderSaga.Deadlines(reservation: settings.reservation, payment: settings.payment, shipment: settings.shipment, delivery: settings.delivery)
            return StreamWorker(role: OrderSagaRole(deadlines: deadlines), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "payment": { context in
            // The sandbox's ledger lives beside the state, so that it outlives a crashed worker like a real gateway's.
            let ledger = context.environment["SOUK_SANDBOX_LEDGER"].map { URL(fileURLWithPath: $0) }
                ?? context.configuration.stateDirectory?.appendingPathComponent("sandbox-payments.jsonl")
            let provider = try SandboxPaymentProvider(journal: ledger)
            return StreamWorker(role: PaymentRole(provider: provider), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "shipping": { context in
            StreamWorker(role: ShippingRole(), configuration: context.configuration, logger: context.logger, health: context.health)
        },
        "timers": { context in
            let tick = try context.environment.seconds("SOUK_TIMER_TICK_SECONDS", default: 1)
            return TimerService(
                configuration: context.configuration, requestTopics: [InventoryRole.Topics().timers], tickInterval: .milliseconds(Int(tick * 1000)),
                logger: context.logger, health: context.health
            )
        },
        "projector": { context in
            // Every events topic of the contract, unless SOUK_PROJECTOR_TOPICS names a subset.
            let topics = context.environment["SOUK_PROJECTOR_TOPICS"].map { $0.split(separator: ",").map(String.init) }
                ?? TopicCatalog.topics.filter { $0.kind == .events }.map(\.name)
            return ProjectorWorker(
                topics: topics,
                bootstrapServers: context.configuration.bootstrapServers,
                timings: context.configuration.timings,
                postgresURL: try context.environment.require("POSTGRES_URL"),
                redisURL: context.environment["REDIS_URL"],
                leaveGroupOnClose: context.configuration.leaveGroupOnClose,
                logger: context.logger,
                health: context.health
            )
        },
        "api": { context in
            // The HTTP API: commands in, queries out, on its own port (SOUK_API_PORT, default 8000).
            let registry = context.metrics
            return APIService(
                configuration: try APIConfiguration(environment: context.environment, logger: context.logger),
                bootstrapServers: context.configuration.bootstrapServers,
                postgresURL: try context.environment.require("POSTGRES_URL"),
                redisURL: context.environment["REDIS_URL"],
                health: context.health,
                metrics: { SoukMetrics.text(registry) },
                logger: context.logger
            )
        },
        "counter": { context in
            let configuration = context.configuration, logger = context.logger, health = context.health
            // The diagnostic counting role on its own topics: a quick end-to-end check of a deployment.
            let admin = try KafkaAdminClient(bootstrapServers: configuration.bootstrapServers, logger: logger)
            try await admin.createTopics([
                KafkaNewTopic(name: "souk.diagnostics.increments.v1", partitions: 6),
                KafkaNewTopic(name: "souk.diagnostics.counts.v1", partitions: 6),
            ])
            let role = CountingRole(inputTopic: "souk.diagnostics.increments.v1", outputTopic: "souk.diagnostics.counts.v1")
            return StreamWorker(role: role, configuration: configuration, logger: logger, health: health)
        }
    ]

    public static var names: [String] { roles.keys.sorted() }
}

/// Runs roles and the HTTP service for health and metrics until SIGTERM or SIGINT.
public struct RoleRunner: Sendable {
    public var roles: [String]
    public var instance: Int
    public var httpPort: Int
    /// Where the health and metrics endpoint listens: loopback unless told otherwise (a pod sets
    /// `0.0.0.0` for its probes), so that `/metrics` is not answered to anyone who can reach the host.
    public var httpHost: String
    public var stateDirectory: URL?

    public init(roles: [String], instance: Int, httpPort: Int, httpHost: String = "127.0.0.1", stateDirectory: URL?) {
        self.roles = roles
        self.instance = instance
        self.httpPort = httpPort
        self.httpHost = httpHost
        self.stateDirectory = stateDirectory
    }

    public func run(environment: SoukEnvironment, logger: Logger) async throws {
        try await WorkerProcess.serve(httpHost: httpHost, httpPort: httpPort, logger: logger) { health, metrics in
            var services: [any Service] = []
            for name in roles {
                guard let factory = RoleRegistry.roles[name] else {
                    throw SoukConfigurationError("unknown role '\(name)'; known roles: \(RoleRegistry.names.joined(separator: ", "))")
                }
                let configuration = try environment.streamConfiguration(instance: instance, stateDirectory: stateDirectory)
                services.append(
                    try await factory(.init(configuration: configuration, environment: environment, logger: logger, health: health, metrics: metrics))
                )
            }
            return services
        }
    }
}

/// What every worker process does around its workers: Prometheus metrics, the health and metrics
/// endpoint, one `ServiceGroup` with graceful shutdown on SIGTERM and SIGINT.
public enum WorkerProcess {
    /// Runs the workers `make` builds (reporting to the health it is given) until a signal stops them.
    public static func serve(
        httpHost: String = "127.0.0.1",
        httpPort: Int,
        logger: Logger,
        _ make: (WorkerHealth, PrometheusCollectorRegistry) async throws -> [any Service]
    ) async throws {
        let registry = SoukMetrics.bootstrap()
        let health = WorkerHealth()
        var services = try await make(health, registry).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        if httpPort > 0 {
            services.append(.init(service: ObservabilityServer.make(host: httpHost, port: httpPort, health: health, registry: registry, logger: logger)))
        }
        services.append(.init(service: LivenessWatchdog(health: health, logger: logger)))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A batch in flight is finished and committed; past this the process exits anyway.
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        try await ServiceGroup(configuration: configuration).run()
    }
}
