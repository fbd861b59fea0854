import Kafka

/// The round being committed while the worker handles the next one: one transaction of the worker's
/// producer holding every partition's records of the round and their offsets. The next round's
/// records go into a new transaction once it has returned.
final class CommitFlight: Sendable {
    /// The partitions the transaction commits, with the preparation each belongs to
    /// (`PartitionOwner.token`): one prepared anew since is not this commit's any more.
    let partitions: [Int32: Int]
    let offsets: [KafkaTopicPartition: Int64]
    /// Per record produced into the transaction (by tag), the input it came from (`nil`: a changelog
    /// record): a delivery that fails for good is traced back to its input.
    let origins: [RecordPosition?]
    /// Per partition, the round as it was closed (for metrics and logs).
    let rounds: [Int32: RoundSummary]
    /// Whether the transaction holds only the marker that closes an idle spell (`StreamWorker.idleCommit`).
    let closing: Bool
    let started: ContinuousClock.Instant
    private let outcome = JobResult<CommitResult>()

    init(partitions: [Int32: Int], offsets: [KafkaTopicPartition: Int64], origins: [RecordPosition?], rounds: [Int32: RoundSummary], closing: Bool) {
        self.partitions = partitions
        self.offsets = offsets
        self.origins = origins
        self.rounds = rounds
        self.closing = closing
        started = .now
    }

    /// The result, once the commit has returned.
    var result: CommitResult? { outcome.value }

    func land(_ result: CommitResult) { outcome.deliver(result) }

    /// Returns once the commit has returned, or once the calling task is cancelled (then `result`
    /// may still be `nil`): a cancelled worker's background jobs stop, and the commit may never run.
    func waitLanded() async { _ = await outcome.wait() }
}

/// What a closed round held, for metrics once its commit has returned.
struct RoundSummary: Sendable {
    var processed: Int
    var emitted: Int
    var duplicates: Int
    var deadLettered: Int
    var oversizedStates: [String]
}

extension CommitFlight {
    /// Sends the offsets into the open transaction and commits it. A round with a partition the group
    /// took away, or one this worker may have lost while it was away, is never committed (it is
    /// aborted): the partition's new owner may already have it.
    static func commit(
        _ producer: KafkaTransactionalProducer,
        offsets: [KafkaTopicPartition: Int64],
        metadata: KafkaConsumerGroupMetadata?,
        bound: Duration,
        mustNotCommit: @Sendable () -> Bool
    ) async -> CommitResult {
        guard let metadata, !mustNotCommit() else {
            try? await producer.abort(bound: bound)
            return .skipped
        }
        do {
            try await producer.sendOffsets(lastProcessed: offsets, groupMetadata: metadata)
        } catch let error as KafkaError where error.kind == .fatal {
            return .fenced(error)
        } catch {
            do {
                try await producer.abort(bound: bound)
                return .aborted(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"), failures: producer.takeFailedDeliveries())
            } catch {
                return .unknown(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"))
            }
        }
        // The records were produced in the background, ahead of the offsets: a record refused then
        // (too large, say) fails the transaction.
        if let failure = producer.takeBackgroundFailure() {
            try? await producer.abort(bound: bound)
            return failure.error.kind == .fatal ? .fenced(failure.error) : .aborted(failure.error, failures: failure.tag.map { [($0, failure.error)] } ?? [])
        }
        if mustNotCommit() {
            try? await producer.abort(bound: bound)
            return .skipped
        }
        switch await producer.commit(bound: bound) {
        case .committed: return .committed
        case .aborted(let error): return .aborted(error, failures: producer.takeFailedDeliveries())
        case .unknown(let error): return .unknown(error)
        case .fatal(let error): return .fenced(error)
        }
    }
}
