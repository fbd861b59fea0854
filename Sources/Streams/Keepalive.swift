import Kafka
import Synchronization

/// Keeps a consumer polling while the worker is busy for longer than `grace` (handler retries, a slow
/// commit, its verification), with the given partitions paused, so that the member never lets
/// `max.poll.interval.ms` pass and is never evicted for being slow. Rebalances reported meanwhile reach
/// the worker's rebalance log as usual; records of partitions that were not paused are kept for the
/// worker's next batch, never dropped.
struct Keepalive: Sendable {
    let consumer: KafkaConsumer
    let grace: Duration
    let epochs: PartitionEpochs

    final class Outcome: Sendable {
        /// The partitions this keepalive paused: the worker resumes those it still owns and is ready for.
        let paused = Mutex<[KafkaTopicPartition]>([])
        let records = Mutex<[PolledChunk]>([])
    }

    /// Runs `body` in the current task while a child polls.
    func whilePolling<T>(
        pausing partitions: [KafkaTopicPartition],
        _ body: () async throws -> T
    ) async throws -> (T, Outcome) {
        let outcome = Outcome()
        let consumer = self.consumer, grace = self.grace, epochs = self.epochs
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await Task.sleep(for: grace) } catch { return }
                try? await consumer.pause(partitions)
                outcome.paused.withLock { $0 = partitions }
                while !Task.isCancelled {
                    let chunk = try await consumer.pollChunk(maxMessages: 1_000, timeout: .milliseconds(100), epochs: epochs)
                    if !chunk.messages.isEmpty { outcome.records.withLock { $0.append(chunk) } }
                }
            }
            do {
                let result = try await body()
                group.cancelAll()
                try await group.waitForAll()
                return (result, outcome)
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
