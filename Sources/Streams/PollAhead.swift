import Kafka
import Synchronization

/// The worker's next poll, started before the records of the last one are handled: the consumer's
/// thread copies records out of librdkafka while the loop handles the previous ones.
///
/// Records a poll returns have moved the consumer's position, so one that cannot be handled must be
/// followed by a seek; each record carries the epochs its poll took (`PartitionEpochs`), and the loop
/// handles only those still current.
final class PollAhead: Sendable {
    private let consumer: KafkaConsumer
    private let jobs: BackgroundJobs
    private let epochs: PartitionEpochs
    /// The poll started last, until it is taken.
    private let pending = Mutex<JobResult<Result<PolledChunk, any Error>>?>(nil)

    init(consumer: KafkaConsumer, jobs: BackgroundJobs, epochs: PartitionEpochs) {
        self.consumer = consumer
        self.jobs = jobs
        self.epochs = epochs
    }

    /// Starts the next poll.
    func start(maxMessages: Int, timeout: Duration) {
        let poll = JobResult<Result<PolledChunk, any Error>>()
        pending.withLock { $0 = poll }
        let consumer = self.consumer, epochs = self.epochs
        jobs.start {
            do {
                poll.deliver(.success(try await consumer.pollChunk(maxMessages: maxMessages, timeout: timeout, epochs: epochs)))
            } catch {
                poll.deliver(.failure(error))
            }
        }
    }

    /// The records of the poll started last. Throws `CancellationError` when the calling task is
    /// cancelled: once the worker's task is, its background jobs stop, and the poll may never run.
    func take() async throws -> PolledChunk {
        guard let poll = pending.withLock({ $0 }) else { preconditionFailure("take() without a poll started") }
        guard let result = await poll.wait() else { throw CancellationError() }
        pending.withLock { if $0 === poll { $0 = nil } }
        return try result.get()
    }
}
