import Kafka
import Logging
import Testing

@testable import Streams

/// Once graceful shutdown runs out of time, the service group cancels the worker's task, and with it
/// the background jobs that run its polls and commits. A wait for one of those must then end, or
/// `souk run` never exits (seen: an idle `souk run --all` still alive half an hour after SIGTERM).
@Suite struct ShutdownCancellationTests {
    @Test(.timeLimit(.minutes(1)))
    func aWaitForACommitWhoseJobNeverRunsEndsWhenTheTaskIsCancelled() async {
        let flight = CommitFlight(partitions: [0: 1], offsets: [:], origins: [], rounds: [:], closing: false)
        let waiting = Task {
            await flight.waitLanded()
            return flight.result == nil
        }
        waiting.cancel()
        #expect(await waiting.value)
    }

    @Test(.timeLimit(.minutes(1)))
    func aWaitForAPollWhoseJobNeverRunsThrowsWhenTheTaskIsCancelled() async throws {
        // No broker is needed: the poll is never run, because nothing runs the jobs.
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9", groupID: "never-joins"),
            logger: Logger(label: "test")
        )
        let ahead = PollAhead(consumer: consumer, jobs: BackgroundJobs(), epochs: PartitionEpochs())
        ahead.start(maxMessages: 10, timeout: .milliseconds(10))
        let waiting = Task { try await ahead.take() }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    @Test(.timeLimit(.minutes(1)))
    func aWaitForAResultThatArrivesReturnsIt() async {
        let flight = CommitFlight(partitions: [0: 1], offsets: [:], origins: [], rounds: [:], closing: false)
        let waiting = Task { await flight.waitLanded() }
        flight.land(.committed)
        await waiting.value
        guard case .committed = flight.result else {
            Issue.record("expected the commit's result, got \(String(describing: flight.result))")
            return
        }
    }
}
