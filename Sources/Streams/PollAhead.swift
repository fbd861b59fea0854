import Kafka
import Synchronization

/// The worker's next poll, started before the records of the last one are handled: the consumer's
/// thread copies records out of librdkafka while the loop handles the previous ones.
///
/// Records a poll returns have moved the consumer's position, so one that cannot be handled must be
/// followed by a seek. The loop bumps a partition's epoch whenever it seeks it or drops it; records of
/// a partition whose epoch changed after the poll started are stale and never handled.
final class PollAhead: Sendable {
    private struct Pending {
        var result: Result<[KafkaConsumerMessage], any Error>?
        var waiter: CheckedContinuation<Result<[KafkaConsumerMessage], any Error>, Never>?
        var epochs: [Int32: Int] = [:]
        var started = false
    }

    private let consumer: KafkaConsumer
    private let jobs: BackgroundJobs
    private let pending = Mutex(Pending())

    init(consumer: KafkaConsumer, jobs: BackgroundJobs) {
        self.consumer = consumer
        self.jobs = jobs
    }

    /// Starts the next poll; `epochs` are the partitions' epochs as the loop knows them now.
    func start(maxMessages: Int, timeout: Duration, epochs: [Int32: Int]) {
        pending.withLock { $0 = Pending(epochs: epochs, started: true) }
        let consumer = self.consumer
        jobs.start { [self] in
            let result: Result<[KafkaConsumerMessage], any Error>
            do {
                result = .success(try await consumer.pollBatch(maxMessages: maxMessages, timeout: timeout).messages)
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

    /// The records of the poll started last, without those of partitions whose epoch has changed since
    /// (`epochs`: the loop's current ones).
    func take(epochs current: [Int32: Int]) async throws -> [KafkaConsumerMessage] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[KafkaConsumerMessage], any Error>, Never>) in
            let ready: Result<[KafkaConsumerMessage], any Error>? = pending.withLock { pending in
                precondition(pending.started, "take() without a poll started")
                if let result = pending.result { return result }
                pending.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        let started = pending.withLock { pending in
            defer { pending = Pending() }
            return pending.epochs
        }
        let messages = try result.get()
        return started == current ? messages : messages.filter { started[$0.partition] == current[$0.partition] }
    }
}
