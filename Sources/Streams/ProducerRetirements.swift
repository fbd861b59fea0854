import Kafka
import Synchronization

/// Producers on their way out, per transactional id. Each one first ends its epoch with a transaction
/// of its own (`KafkaTransactionalProducer.seal`), then is discarded; a new producer under an id is
/// initialised only once every producer retired under it has no request left in flight: on the local
/// broker a produce request of an older epoch that arrives after the new producer's initialisation
/// ended that epoch is recorded against the ended transaction, which from then on counts as open and
/// unprepared, and no later transaction of the id can complete (see `KafkaTransactionalProducer.discard`).
final class ProducerRetirements: Sendable {
    private let retiring = Mutex<[String: Task<Void, Never>]>([:])
    private let sealBound: Duration

    init(sealBound: Duration = .seconds(2)) {
        self.sealBound = sealBound
    }

    /// Seals `producer` with `marker` (none: no seal) and discards it, off the caller's path, after any
    /// producer retired earlier under its id.
    func retire(_ producer: KafkaTransactionalProducer, sealingWith marker: KafkaProducerMessage?) {
        let id = producer.transactionalID, bound = sealBound
        retiring.withLock { tasks in
            let previous = tasks[id]
            tasks[id] = Task.detached {
                await previous?.value
                if let marker { _ = await producer.seal(with: marker, bound: bound) }
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
    func retireAll(_ producers: [(producer: KafkaTransactionalProducer, marker: KafkaProducerMessage?)]) async {
        for (producer, marker) in producers { retire(producer, sealingWith: marker) }
        for id in Set(producers.map(\.producer.transactionalID)) { await settled(id) }
    }
}
