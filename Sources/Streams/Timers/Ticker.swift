import Foundation
import JSONCodec
import Kafka
import Logging
import ServiceLifecycle

/// Writes a tick to every partition of the timers topic at a fixed interval, so that the timer role
/// sees time pass on partitions where nothing else happens. Ticks from several instances are harmless:
/// a tick only fires what is due.
public struct Ticker: Service {
    let topic: String
    let interval: Duration
    let bootstrapServers: String
    let logger: Logger

    public init(topic: String = TimerClient.defaultTopic, interval: Duration = .seconds(1), bootstrapServers: String, logger: Logger) {
        self.topic = topic
        self.interval = interval
        self.bootstrapServers = bootstrapServers
        self.logger = logger
    }

    public func run() async throws {
        let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers), logger: logger)
        let value = try SoukJSON.encode(TimerTick())
        await cancelWhenGracefulShutdown {
            var partitions = 0
            while !Task.isCancelled {
                do {
                    if partitions == 0 { partitions = try await admin.describeTopic(topic)?.partitions ?? 0 }
                    for partition in 0..<partitions {
                        try await producer.produce(
                            KafkaProducerMessage(
                                topic: topic, partition: Int32(partition), key: nil, value: value,
                                headers: [KafkaHeader(key: CloudEventHeader.type, string: TimerTick.type)]
                            )
                        )
                    }
                    try await producer.flush(timeout: .seconds(10))
                } catch {
                    logger.warning("tick failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
        try? await producer.close(timeout: .seconds(5))
    }
}

/// The timer role's worker and its ticker, as one service.
public struct TimerService: Service {
    let worker: StreamWorker<TimerRole>
    let ticker: Ticker

    public init(
        configuration: StreamConfiguration, requestTopics: [String] = [], tickInterval: Duration = .seconds(1), logger: Logger,
        health: WorkerHealth = WorkerHealth()
    ) {
        let role = TimerRole(requestTopics: requestTopics)
        worker = StreamWorker(role: role, configuration: configuration, logger: logger, health: health)
        ticker = Ticker(topic: role.topic, interval: tickInterval, bootstrapServers: configuration.bootstrapServers, logger: logger)
    }

    public init(worker: StreamWorker<TimerRole>, ticker: Ticker) {
        self.worker = worker
        self.ticker = ticker
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await worker.run()
                return true
            }
            group.addTask {
                try await ticker.run()
                return false
            }
            // On graceful shutdown the ticker stops first, and the worker must still finish its own
            // shutdown (its last commit): cancelling it then left `souk run` hanging after SIGTERM.
            // The worker ends on shutdown or on a fatal error (thrown from here); either way the ticker
            // goes with it.
            while let workerEnded = try await group.next() {
                if workerEnded { group.cancelAll() }
            }
        }
    }
}
