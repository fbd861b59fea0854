import CRdKafka
import Dispatch
import Synchronization

/// Serves a producer's callbacks (delivery reports, errors, logs) from a thread of its own.
///
/// Delivery reports only arrive while someone calls `rd_kafka_poll`; doing that on a dedicated
/// Dispatch thread keeps the cooperative pool free and makes `send` complete without the caller polling.
final class RDKafkaPoller: Sendable {
    private let stopRequested = Atomic<Bool>(false)

    init(client: RDKafkaClient) {
        // The loop holds the poller until `stop()`, which the owning producer calls when it goes away.
        DispatchQueue(label: "souk.kafka.poller").async { [self] in
            while !self.stopRequested.load(ordering: .acquiring) {
                rd_kafka_poll(client.handle, 50)
            }
        }
    }

    /// Asks the loop to leave after its current poll. It does not wait (callers may be on the
    /// cooperative pool, or in a `deinit`); the loop keeps the client alive until it has left.
    func stop() {
        stopRequested.store(true, ordering: .releasing)
    }
}
