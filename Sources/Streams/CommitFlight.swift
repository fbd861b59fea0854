import Kafka
import Synchronization

/// One partition's share of a commit: its producer, whose transaction holds the partition's records
/// of the round, and the offsets the transaction commits.
struct CommitItem: Sendable {
    var partition: Int32
    var producer: KafkaTransactionalProducer?
    var offsets: [KafkaTopicPartition: Int64]
    /// Per record produced into the transaction (by tag), the input it came from (`nil`: a changelog
    /// record): a delivery that fails for good is traced back to its input.
    var origins: [RecordPosition?]
    /// The preparation of the partition this commit belongs to (`PartitionOwner.token`).
    var token: Int
    /// Whether the transaction holds only the marker that closes an idle partition's quiet spell.
    var closing = false
}

/// The round being committed while the worker handles the next one: every partition's transaction
/// ends at about the same time, and the next round's begin only once all of them have, so that on the
/// local broker this worker's transactions never overlap one another.
final class CommitFlight: Sendable {
    /// What each partition's transaction carried, in the order of `results`.
    let items: [CommitItem]
    /// Per partition, the round as it was closed (for metrics and logs).
    let rounds: [Int32: RoundSummary]
    let started: ContinuousClock.Instant
    private let state = Mutex<(results: [PartitionCommitResult]?, waiters: [CheckedContinuation<Void, Never>])>((nil, []))

    init(items: [CommitItem], rounds: [Int32: RoundSummary]) {
        self.items = items
        self.rounds = rounds
        started = .now
    }

    /// The results, once every partition's commit has returned.
    var results: [PartitionCommitResult]? { state.withLock { $0.results } }

    func land(_ results: [PartitionCommitResult]) {
        let waiters = state.withLock { state in
            state.results = results
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every partition's commit has returned.
    func waitLanded() async {
        await withCheckedContinuation { continuation in
            let landed = state.withLock { state in
                if state.results == nil { state.waiters.append(continuation) }
                return state.results != nil
            }
            if landed { continuation.resume() }
        }
    }
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
    /// Commits each partition's open transaction in a child task of its own: they end together.
    /// A partition the group took away, or one this worker may have lost while it was away, is never
    /// committed (its transaction is aborted): its new owner may already have it.
    static func commit(
        _ items: [CommitItem],
        metadata: KafkaConsumerGroupMetadata?,
        bound: Duration,
        mustNotCommit: @escaping @Sendable (Int32) -> Bool
    ) async -> [PartitionCommitResult] {
        await withTaskGroup(of: (Int, PartitionCommitResult).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask { (index, await commit(item, metadata: metadata, bound: bound, mustNotCommit: mustNotCommit)) }
            }
            var results = [PartitionCommitResult](repeating: .skipped, count: items.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    private static func commit(
        _ item: CommitItem,
        metadata: KafkaConsumerGroupMetadata?,
        bound: Duration,
        mustNotCommit: @Sendable (Int32) -> Bool
    ) async -> PartitionCommitResult {
        guard let producer = item.producer, let metadata else { return .skipped }
        if mustNotCommit(item.partition) {
            try? await producer.abort(bound: bound)
            return .skipped
        }
        do {
            try await producer.sendOffsets(lastProcessed: item.offsets, groupMetadata: metadata)
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
        if mustNotCommit(item.partition) {
            try? await producer.abort(bound: bound)
            return .skipped
        }
        // The records were produced in the background, ahead of the offsets: a record refused then
        // (too large, say) fails the transaction.
        if let failure = producer.takeBackgroundFailure() {
            try? await producer.abort(bound: bound)
            return .aborted(failure.error, failures: failure.tag.map { [($0, failure.error)] } ?? [])
        }
        switch await producer.commit(bound: bound) {
        case .committed: return .committed
        case .aborted(let error): return .aborted(error, failures: producer.takeFailedDeliveries())
        case .unknown(let error): return .unknown(error)
        case .fatal(let error): return .fenced(error)
        }
    }
}
