import Kafka
import Synchronization

/// Producers on their way out, per transactional id. A new producer under an id is initialised only
/// once every producer retired under it has no request left in flight: on the local broker a produce
/// request of an older epoch that arrives after the new producer's initialisation ended that epoch is
/// recorded against the ended transaction, which from then on counts as open and unprepared, and no
/// later transaction of the id can complete (see `KafkaTransactionalProducer.discard`).
final class ProducerRetirements: Sendable {
    private let retiring = Mutex<[String: Task<Void, Never>]>([:])

    /// Discards `producer` off the caller's path, after any producer retired earlier under its id.
    func retire(_ producer: KafkaTransactionalProducer) {
        let id = producer.transactionalID
        retiring.withLock { tasks in
            let previous = tasks[id]
            tasks[id] = Task.detached {
                await previous?.value
                await producer.discard()
            }
        }
    }

    /// Returns once every producer retired under `transactionalID` so far is gone.
    func settled(_ transactionalID: String) async {
        guard let task = retiring.withLock({ $0[transactionalID] }) else { return }
        await task.value
    }

    /// Retires every producer and waits until all are gone.
    func retireAll(_ producers: [KafkaTransactionalProducer]) async {
        for producer in producers { retire(producer) }
        for id in Set(producers.map(\.transactionalID)) { await settled(id) }
    }
}
