import Kafka
import Synchronization

/// The worker's next poll, started before the records of the last one are handled: the consumer's
/// thread copies records out of librdkafka while the loop handles the previous ones.
///
/// Records a poll returns have moved the consumer's position, so one that cannot be handled must be
/// followed by a seek; each record carries the epochs its poll took (`PartitionEpochs`), and the loop
/// handles only those still current.
final class PollAhead: Sendable {
    private struct Pending {
        var result: Result<PolledChunk, any Error>?
        var waiter: CheckedContinuation<Result<PolledChunk, any Error>, Never>?
        var started = false
    }

    private let consumer: KafkaConsumer
    private let jobs: BackgroundJobs
    private let epochs: PartitionEpochs
    private let pending = Mutex(Pending())

    init(consumer: KafkaConsumer, jobs: BackgroundJobs, epochs: PartitionEpochs) {
        self.consumer = consumer
        self.jobs = jobs
        self.epochs = epochs
    }

    /// Starts the next poll.
    func start(maxMessages: Int, timeout: Duration) {
        pending.withLock { $0 = Pending(started: true) }
        let consumer = self.consumer, epochs = self.epochs
        jobs.start { [self] in
            let result: Result<PolledChunk, any Error>
            do {
                result = .success(try await consumer.pollChunk(maxMessages: maxMessages, timeout: timeout, epochs: epochs))
            } catch {
                result = .failure(error)
            }
            let waiter = pending.withLock { pending in
                defer { pending.waiter = nil }
                if pending.waiter == nil { pending.result = result }
                return pending.waiter
            }
            waiter?.resume(returning: result)
        }
    }

    /// The records of the poll started last. Throws `CancellationError` when the calling task is
    /// cancelled: once the worker's task is, its background jobs stop, and the poll may never run.
    func take() async throws -> PolledChunk {
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<PolledChunk, any Error>, Never>) in
                let ready: Result<PolledChunk, any Error>? = pending.withLock { pending in
                    precondition(pending.started, "take() without a poll started")
                    if let result = pending.result { return result }
                    // Checked under the lock the cancellation handler takes: it has either run (and
                    // found no waiter) or will find this one.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    pending.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = pending.withLock { pending in
                defer { pending.waiter = nil }
                return pending.waiter
            }
            waiter?.resume(returning: .failure(CancellationError()))
        }
        pending.withLock { $0 = Pending() }
        return try result.get()
    }
}
