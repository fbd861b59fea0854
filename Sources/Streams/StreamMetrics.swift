import Kafka
import Metrics

/// The worker's Prometheus-style metrics, labelled by role (and partition where it matters).
struct StreamMetrics: Sendable {
    let role: String

    func recordBatch<State>(_ outcome: BatchOutcome<State>, records: [InboundRecord], duration: Duration, committed: Bool) {
        var perPartition: [Int32: Int] = [:]
        for record in records { perPartition[record.partition, default: 0] += 1 }
        for (partition, count) in perPartition {
            Counter(label: "souk_stream_messages_in_total", dimensions: [("role", role), ("partition", String(partition))])
                .increment(by: count)
        }
        Counter(label: "souk_stream_messages_out_total", dimensions: [("role", role)]).increment(by: outcome.emitted)
        Counter(label: "souk_stream_dead_letters_total", dimensions: [("role", role)]).increment(by: outcome.deadLettered)
        Counter(label: "souk_stream_duplicates_dropped_total", dimensions: [("role", role)]).increment(by: outcome.duplicates)
        Counter(label: "souk_stream_transactions_total", dimensions: [("role", role), ("outcome", committed ? "commit" : "abort")])
            .increment()
        Timer(label: "souk_stream_batch_duration_seconds", dimensions: [("role", role)]).recordNanoseconds(duration.nanoseconds)
    }

    func recordRestore(duration: Duration, keys: Int) {
        Timer(label: "souk_stream_restore_duration_seconds", dimensions: [("role", role)]).recordNanoseconds(duration.nanoseconds)
        Counter(label: "souk_stream_restored_keys_total", dimensions: [("role", role)]).increment(by: keys)
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
