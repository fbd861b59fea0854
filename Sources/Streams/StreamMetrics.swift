import Kafka
import Metrics

/// The worker's Prometheus-style metrics, labelled by role (and partition where it matters).
struct StreamMetrics: Sendable {
    let role: String

    /// The previous writer of a partition, fenced as its new owner took it over.
    func recordFence() {
        Counter(label: "souk_stream_fenced_predecessors_total", dimensions: [("role", role)]).increment()
    }

    /// Skipped offsets that held records (`StreamConfiguration.verifyOffsetGaps`), read again.
    func recordHoles(_ count: Int) {
        Counter(label: "souk_stream_offset_holes_total", dimensions: [("role", role)]).increment(by: count)
    }

    /// One partition's round, once its commit returned.
    func recordRound(_ round: RoundSummary, partition: Int32, duration: Duration, committed: Bool) {
        Counter(label: "souk_stream_messages_in_total", dimensions: [("role", role), ("partition", String(partition))]).increment(by: round.processed)
        Counter(label: "souk_stream_messages_out_total", dimensions: [("role", role)]).increment(by: round.emitted)
        Counter(label: "souk_stream_dead_letters_total", dimensions: [("role", role)]).increment(by: round.deadLettered)
        Counter(label: "souk_stream_duplicates_dropped_total", dimensions: [("role", role)]).increment(by: round.duplicates)
        if committed {
            Counter(label: "souk_stream_oversized_states_total", dimensions: [("role", role)]).increment(by: round.oversizedStates.count)
        }
        Counter(label: "souk_stream_transactions_total", dimensions: [("role", role), ("outcome", committed ? "commit" : "abort")])
            .increment()
        Timer(label: "souk_stream_batch_duration_seconds", dimensions: [("role", role)]).recordNanoseconds(duration.nanoseconds)
    }

    func recordRestore(keys: Int) {
        Counter(label: "souk_stream_restores_total", dimensions: [("role", role)]).increment()
        Counter(label: "souk_stream_restored_keys_total", dimensions: [("role", role)]).increment(by: keys)
    }

    /// A commit whose outcome was unknown, or that never reached the group's offsets.
    func recordLostCommit() {
        Counter(label: "souk_stream_lost_commits_total", dimensions: [("role", role)]).increment()
    }

    /// A commit the broker left prepared (`confirmCommits`).
    func recordUnconfirmedCommit() {
        Counter(label: "souk_stream_unconfirmed_commits_total", dimensions: [("role", role)]).increment()
    }

    /// A commit skipped because the worker may have been frozen past its session (a zombie's guard).
    func recordAwaySkip() {
        Counter(label: "souk_stream_away_skips_total", dimensions: [("role", role)]).increment()
    }

    /// What ending the last epoch of a partition's transactional id before initialising it found.
    func recordEpochRepair(_ outcome: KafkaEpochRepair.Outcome) {
        let label =
            switch outcome {
            case .ended: "ended"
            case .superseded: "superseded"
            case .nothingWritten: "nothing"
            case .own: "own"
            case .unavailable: "unavailable"
            }
        Counter(label: "souk_stream_epoch_repairs_total", dimensions: [("role", role), ("outcome", label)]).increment()
    }

    func recordPollIntervalBreaches(_ count: Int) {
        Counter(label: "souk_stream_poll_interval_exceeded_total", dimensions: [("role", role)]).increment(by: count)
    }

    func recordStuck(_ partitions: Int) {
        Gauge(label: "souk_stream_stuck_partitions", dimensions: [("role", role)]).record(partitions)
    }

    func recordLag(_ partition: KafkaTopicPartition, lag: Int64) {
        Gauge(label: "souk_stream_lag", dimensions: [("role", role), ("topic", partition.topic), ("partition", String(partition.partition))])
            .record(lag)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
