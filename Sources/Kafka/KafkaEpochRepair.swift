/// Ends the last epoch of whoever last wrote a partition before its new owner takes it over — for the
/// local broker, where an ended epoch can be left holding partitions for good and nothing ever times a
/// transaction out.
///
/// Tansu's `EndTxn` marks a transaction prepared and then writes its markers; when another producer's
/// `EndTxn` completes it in between, the later markers are recorded against an epoch that has ended,
/// and from then on that epoch counts as an unprepared transaction overlapping every later transaction
/// on those partitions, for every writer. Only a transaction of that same epoch clears it, and
/// `InitProducerId` starts a new epoch without touching it. A live producer heals it with its next
/// transaction (`KafkaTransactionalProducer.seal`); a killed one cannot. The partition's next owner can:
/// it reads the producer id and epoch of the last transactional batch on a partition that every
/// transaction of its writer writes (a changelog), and the writer's transactional id from a header of
/// the batch's records, reopens that epoch with `AddPartitionsToTxn`, and aborts it with `EndTxn`.
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
        /// The last writer is the caller's own transactional id: nothing was done.
        case own
        /// The epoch that wrote last was reopened and aborted.
        case ended(transactionalID: String, producerID: Int64, epoch: Int16)
        /// The epoch that wrote last is no longer its id's latest: its successor already ended it.
        case superseded(transactionalID: String, producerID: Int64, epoch: Int16)
        /// The broker could not be asked (unreachable, not plaintext, an unexpected error), or the last
        /// writer could not be told (a compressed batch without a fallback id).
        case unavailable(String)

        /// The transactional id that wrote last, when it was found.
        public var writer: String? {
            switch self {
            case .ended(let id, _, _), .superseded(let id, _, _): id
            case .nothingWritten, .own, .unavailable: nil
            }
        }

        public var description: String {
            switch self {
            case .nothingWritten: "nothing written"
            case .own: "written last by this producer"
            case .ended(let id, let producer, let epoch): "ended \(id) (producer \(producer) epoch \(epoch))"
            case .superseded(let id, let producer, let epoch): "\(id) (producer \(producer) epoch \(epoch)) already superseded"
            case .unavailable(let reason): "unavailable: \(reason)"
            }
        }
    }

    /// Ends the epoch that last wrote a transactional batch to `evidence`, a partition that its writers
    /// write in every transaction. The writer's transactional id is the value of the header
    /// `writerHeader` on that batch's records, or `fallbackID` when none carries it (records written
    /// before the header existed). Nothing is done when the writer is `ownID`. Best effort and bounded
    /// by `timeout` per request; call it only while no producer of that id runs on the caller's side.
    public static func endLastWriter(
        of evidence: KafkaTopicPartition,
        writerHeader: String,
        fallbackID: String? = nil,
        except ownID: String? = nil,
        configuration: KafkaProducerConfiguration,
        timeout: Duration = .seconds(5)
    ) async -> Outcome {
        if let security = configuration.additional["security.protocol"], security.lowercased() != "plaintext" {
            return .unavailable("only plaintext listeners are supported")
        }
        // A connection the broker closed (it restarts, it is busy) is worth another try: an epoch left
        // unended pins its partitions for good.
        var failure: (any Error)?
        for attempt in 1...3 {
            do {
                return try await KafkaWireClient.with(servers: configuration.bootstrapServers, timeout: timeout) { client in
                    let latest = try client.latestOffset(evidence)
                    guard latest > 0 else { return .nothingWritten }
                    // From a few offsets before the end (on Tansu "latest" is the last batch's start + 1):
                    // the last batches may be a transaction's control batches.
                    guard let last = try lastTransactionalBatch(of: evidence, from: max(0, latest - 64), header: writerHeader, client: client) else {
                        return .nothingWritten
                    }
                    guard let writer = last.value.map({ String(decoding: $0, as: UTF8.self) }) ?? fallbackID else {
                        return .unavailable("the last transactional batch names no writer")
                    }
                    if writer == ownID { return .own }
                    return try end(writer, producerID: last.header.producerID, epoch: last.header.producerEpoch, evidence: evidence, client: client)
                }
            } catch {
                failure = error
                if attempt < 3 { try? await Task.sleep(for: .milliseconds(200 * attempt)) }
            }
        }
        return .unavailable("\(failure.map { "\($0)" } ?? "no answer")")
    }

    /// The last transactional data batch from `offset` to the partition's end. It is read to the end:
    /// one fetch may hold a single batch (a changelog batch of large values exceeds a fetch's bytes),
    /// and stopping there would name a writer that ended long ago instead of the one that wrote last.
    private static func lastTransactionalBatch(
        of partition: KafkaTopicPartition,
        from offset: Int64,
        header: String,
        client: KafkaWireClient
    ) throws -> (header: KafkaRecordBatchHeader, value: [UInt8]?)? {
        var last: (header: KafkaRecordBatchHeader, value: [UInt8]?)?
        try client.walk(partition, from: offset) { fetched, _ in
            if let found = KafkaRecordBatchHeader.lastTransactionalBatch(in: fetched.records, header: header) { last = found }
            return true
        }
        return last
    }

    private static func end(_ transactionalID: String, producerID: Int64, epoch: Int16, evidence: KafkaTopicPartition, client: KafkaWireClient) throws -> Outcome {
        try client.connectToCoordinator(of: transactionalID)
        // Twice: the first end writes markers and may itself race another producer's end; the second
        // finds nothing left to mark and ends without writing.
        for round in 0..<2 {
            do {
                try client.addPartition(transactionalID: transactionalID, producerID: producerID, epoch: epoch, evidence)
            } catch let error as KafkaWireClient.ErrorCode where round == 0 && fencing.contains(error.code) {
                return .superseded(transactionalID: transactionalID, producerID: producerID, epoch: epoch)
            }
            try client.endTransaction(transactionalID: transactionalID, producerID: producerID, epoch: epoch, commit: false)
        }
        return .ended(transactionalID: transactionalID, producerID: producerID, epoch: epoch)
    }

    /// INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID, PRODUCER_FENCED: the epoch is not the id's latest.
    private static let fencing: Set<Int16> = [47, 59, 90]
}
