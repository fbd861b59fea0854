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
        host: String = "0.0.0.0",
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
        router.get("/health/live") { _, _ in
            let stalled = health.stalledWorkers()
            return status(stalled.isEmpty ? .ok : .serviceUnavailable, stalled.isEmpty ? "live" : "stalled", workers: stalled)
        }
        router.get("/health/ready") { _, _ in
            let unready = health.unreadyWorkers()
            return status(health.isReady ? .ok : .serviceUnavailable, health.isReady ? "ready" : "restoring", workers: unready)
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
    }

    private static func status(_ code: HTTPResponse.Status, _ text: String, workers: [String]) -> Response {
        let list = workers.map { "\"\($0)\"" }.joined(separator: ",")
        return Response(
            status: code,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"\#(text)","workers":[\#(list)]}"#))
        )
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
}
