import Kafka
import Logging

/// Where accepted commands go. The API's only write: one record per accepted request.
public protocol CommandPublisher: Sendable {
    /// Writes `record` and returns once the broker has acknowledged it.
    func publish(_ record: KafkaProducerMessage) async throws -> KafkaDeliveryReport
}

/// Commands to Kafka through an idempotent producer (retries never duplicate, keys are partitioned
/// like the Java client's), acknowledged by all in-sync replicas before the API answers 202.
public final class KafkaCommandPublisher: CommandPublisher {
    private let producer: KafkaProducer

    public init(bootstrapServers: String, logger: Logger) throws {
        producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(
                bootstrapServers: bootstrapServers, clientID: "souk-api",
                // A request waits for its own record only: batching across concurrent requests still
                // happens within a millisecond.
                linger: .milliseconds(1),
                additional: ["acks": "all", "message.timeout.ms": "10000"]
            ),
            logger: logger
        )
    }

    public func publish(_ record: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await producer.send(record)
    }

    public func close() async throws {
        try await producer.close(timeout: .seconds(10))
    }
}
