import CRdKafka
import Dispatch
import Synchronization

/// Serves a producer's callbacks (delivery reports, errors, logs) from a thread of its own.
///
/// Delivery reports only arrive while someone calls `rd_kafka_poll`; doing that on a dedicated
/// Dispatch thread keeps the cooperative pool free and makes `send` complete without the caller polling.
final class RDKafkaPoller: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(client: RDKafkaClient) {
        // The loop holds the poller until `stop()`, which the owning producer calls when it goes away.
        DispatchQueue(label: "souk.kafka.poller").async { [self] in
            while !self.stopRequested.load(ordering: .acquiring) {
                rd_kafka_poll(client.handle, 50)
            }
            self.stopped.signal()
        }
    }

    /// Stops the loop and waits for it to leave (at most one poll interval).
    func stop() {
        if stopRequested.exchange(true, ordering: .acquiringAndReleasing) == false {
            stopped.wait()
        }
    }
}
