import API
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Streams

/// `/health/live`, `/health/ready` and `/metrics` for the workers of one process.
public enum ObservabilityServer {
    /// An HTTP service to add to the process's `ServiceGroup`.
    public static func make(
        host: String = "127.0.0.1",
        port: Int,
        health: WorkerHealth,
        registry: PrometheusCollectorRegistry,
        logger: Logger
    ) -> some Service {
        let router = Router()
        addRoutes(to: router, health: health, registry: registry)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "souk"), logger: logger)
    }

    public static func addRoutes<Context: RequestContext>(
        to router: Router<Context>,
        health: WorkerHealth,
        registry: PrometheusCollectorRegistry
    ) {
        router.get("/health/live") { _, _ in HealthEndpoints.live(health) }
        router.get("/health/ready") { _, _ in HealthEndpoints.ready(health) }
        router.get("/metrics") { _, _ in HealthEndpoints.metrics(SoukMetrics.text(registry)) }
    }
}

/// Process-wide metrics: swift-metrics backed by a Prometheus registry.
public enum SoukMetrics {
    /// Installs the Prometheus backend once per process and returns its registry.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// The registry's metrics in Prometheus' text format.
    public static func text(_ registry: PrometheusCollectorRegistry) -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
