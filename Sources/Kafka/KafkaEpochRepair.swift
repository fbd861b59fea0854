/// Ends the last epoch of a transactional id before a new producer initialises it — for the local
/// broker, where an ended epoch can be left holding partitions for good.
///
/// Tansu's `EndTxn` marks a transaction prepared and then writes its markers; when another producer's
/// `EndTxn` completes it in between, the later markers are recorded against an epoch that has ended,
/// and from then on that epoch counts as an unprepared transaction overlapping every later transaction
/// on those partitions, for every writer. Only a transaction of that same epoch clears it, and
/// `InitProducerId` starts a new epoch without touching it. A live producer heals it with its next
/// transaction (`KafkaTransactionalProducer.seal`); a killed one cannot. Its successor can, before it
/// initialises: it reads the producer id and epoch of the last transactional batch on a partition that
/// only this transactional id writes (and writes in every transaction), reopens that epoch with
/// `AddPartitionsToTxn`, and aborts it with `EndTxn`.
///
/// Aborting is what `InitProducerId` does to an open transaction anyway. A transaction that was
/// already prepared to commit, and still waits for an overlapping one, is aborted too: its inputs are
/// processed again, which the runtime's dedupe absorbs, whereas committing an open one could commit
/// offsets without all of their records. On Apache Kafka the requests either abort what the
/// initialisation would abort or are refused; nothing else changes.
public enum KafkaEpochRepair {
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        /// No transactional batch on the partition: no epoch to end.
        case nothingWritten
        /// The epoch that wrote last was reopened and aborted.
        case ended(producerID: Int64, epoch: Int16)
        /// The epoch that wrote last is no longer the id's latest: its successor already ended it.
        case superseded(producerID: Int64, epoch: Int16)
        /// The broker could not be asked (unreachable, not plaintext, an unexpected error).
        case unavailable(String)

        public var description: String {
            switch self {
            case .nothingWritten: "nothing written"
            case .ended(let producer, let epoch): "ended producer \(producer) epoch \(epoch)"
            case .superseded(let producer, let epoch): "producer \(producer) epoch \(epoch) already superseded"
            case .unavailable(let reason): "unavailable: \(reason)"
            }
        }
    }

    /// Ends the epoch that last wrote a transactional batch to `evidence` under `transactionalID`.
    /// Best effort and bounded by `timeout` per request; call it only while no producer of the id runs.
    public static func endLastEpoch(
        transactionalID: String,
        lastWrittenTo evidence: KafkaTopicPartition,
        configuration: KafkaProducerConfiguration,
        timeout: Duration = .seconds(5)
    ) async -> Outcome {
        if let security = configuration.additional["security.protocol"], security.lowercased() != "plaintext" {
            return .unavailable("only plaintext listeners are supported")
        }
        let servers = configuration.bootstrapServers
        do {
            return try await KafkaWireClient.with(servers: servers, timeout: timeout) { client in
                try endLastEpoch(transactionalID: transactionalID, evidence: evidence, client: client)
            }
        } catch {
            return .unavailable("\(error)")
        }
    }

    private static func endLastEpoch(transactionalID: String, evidence: KafkaTopicPartition, client: KafkaWireClient) throws -> Outcome {
        let latest = try client.latestOffset(evidence)
        guard latest > 0 else { return .nothingWritten }
        // The batch holding the last offset (on Tansu "latest" is the last batch's start + 1).
        let last = try client.fetch(evidence, from: latest - 1).batches.last { $0.isTransactional && $0.producerID >= 0 }
        guard let last else { return .nothingWritten }
        try client.connectToCoordinator(of: transactionalID)
        // Twice: the first end writes markers and may itself race another producer's end; the second
        // finds nothing left to mark and ends without writing.
        for round in 0..<2 {
            do {
                try client.addPartition(transactionalID: transactionalID, producerID: last.producerID, epoch: last.producerEpoch, evidence)
            } catch let error as KafkaWireClient.ErrorCode where round == 0 && fencing.contains(error.code) {
                return .superseded(producerID: last.producerID, epoch: last.producerEpoch)
            }
            try client.endTransaction(transactionalID: transactionalID, producerID: last.producerID, epoch: last.producerEpoch, commit: false)
        }
        return .ended(producerID: last.producerID, epoch: last.producerEpoch)
    }

    /// INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID, PRODUCER_FENCED: the epoch is not the id's latest.
    private static let fencing: Set<Int16> = [47, 59, 90]
}
