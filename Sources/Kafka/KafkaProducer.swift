import Logging

/// An idempotent producer: delivery reports are async results, records keep their partition order.
///
/// Callbacks are served on a dedicated thread; `close()` flushes what is still queued.
public final class KafkaProducer: Sendable {
    let client: RDKafkaClient
    private let poller: RDKafkaPoller

    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(type: .producer, config: configuration.config(), logger: logger)
        poller = RDKafkaPoller(client: client)
    }

    init(client: RDKafkaClient) {
        self.client = client
        poller = RDKafkaPoller(client: client)
    }

    deinit {
        poller.stop()
    }

    /// Produces one record and waits for the broker's acknowledgement.
    public func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            let promise = DeliveryPromise(continuation)
            do {
                guard try client.enqueue(message, promise: promise) else {
                    throw KafkaError(kind: .retriable, codeName: "_QUEUE_FULL", message: "local producer queue is full")
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Enqueues one record without waiting for it; a failure is reported by the next `flush`.
    public func produce(_ message: KafkaProducerMessage) async throws {
        try await client.produce(message, promise: nil)
    }

    /// `produce(_:)` without waiting: `false` when librdkafka's queue is full (nothing was enqueued).
    public func enqueue(_ message: KafkaProducerMessage) throws(KafkaError) -> Bool {
        try client.enqueue(message, promise: nil)
    }

    /// Waits until every enqueued record is acknowledged; throws the first failed delivery.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        try await client.flush(timeout: timeout)
    }

    func stopPolling() { poller.stop() }

    /// Flushes, then stops serving callbacks. The producer must not be used afterwards.
    public func close(timeout: Duration = .seconds(30)) async throws {
        defer { poller.stop() }
        try await flush(timeout: timeout)
    }
}
