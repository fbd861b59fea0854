import Synchronization

/// Tells whether the offsets a consumer did not see hold records it should have read — for the local
/// broker, whose produce can hand a reader a later batch before an earlier one is stored.
///
/// Tansu's produce moves the partition's high watermark (the batch has its offsets), then records the
/// batch against its transaction, then stores it. Two producers writing one partition at once can
/// have the later batch stored first; a fetch in between lists it, returns it, and the consumer moves
/// past the earlier batch, which it never reads. One producer keeps one request in flight to avoid
/// that with itself (`KafkaProducerConfiguration.maxInFlight`), but nothing a producer does prevents
/// it between two producers — inventory's inputs are written by every saga instance, for one.
///
/// On that broker every offset belongs to a stored batch once its produce returns (no compaction,
/// no retention, aborted records delivered), and what a consumer does not see between two records it
/// read are the transactions' markers, which librdkafka drops. So a gap is explained when control
/// batches alone cover it; a data batch in it, or an offset not stored yet, is a hole. On Apache Kafka
/// gaps also come from aborted transactions and compaction, and holes do not happen: do not use it
/// there.
public final class KafkaOffsetGaps: Sendable {
    /// Offsets `from..<to` of a partition that a consumer skipped.
    public struct Gap: Sendable, Hashable, CustomStringConvertible {
        public var partition: KafkaTopicPartition
        public var from: Int64
        public var to: Int64

        public init(_ partition: KafkaTopicPartition, from: Int64, to: Int64) {
            self.partition = partition
            self.from = from
            self.to = to
        }

        public var description: String { "\(partition)@\(from)..<\(to)" }
    }

    private let servers: String
    private let timeout: Duration
    private let executor = BlockingExecutor(label: "souk.kafka.offset-gaps")
    /// One connection, kept between checks; only the executor's queue touches it.
    private let client = Mutex<KafkaWireClient?>(nil)

    public init(bootstrapServers: String, timeout: Duration = .seconds(5)) {
        servers = bootstrapServers
        self.timeout = timeout
    }

    /// The gaps that are holes: a record (or an offset not stored yet) sits in them. A gap that could
    /// not be checked counts as a hole: reading it again costs a fetch, missing a record costs an effect.
    public func holes(among gaps: [Gap]) async -> [Gap] {
        guard !gaps.isEmpty else { return [] }
        return (try? await executor.run { self.check(gaps) }) ?? gaps
    }

    private func check(_ gaps: [Gap]) -> [Gap] {
        client.withLock { client in
            var holes: [Gap] = []
            for (index, gap) in gaps.enumerated() {
                do {
                    if client == nil { client = try KafkaWireClient(servers: servers, timeout: timeout) }
                    if try !Self.onlyMarkers(in: gap, client!) { holes.append(gap) }
                } catch {
                    client = nil
                    return holes + gaps[index...]
                }
            }
            return holes
        }
    }

    /// Whether control batches cover the whole gap.
    static func onlyMarkers(in gap: Gap, _ client: KafkaWireClient) throws -> Bool {
        var covered = gap.from, onlyMarkers = true
        // Batch heads are all it needs: small fetches.
        try client.walk(gap.partition, from: gap.from, maxBytes: 1 << 16) { _, batches in
            for (batch, _) in batches {
                // An offset not stored yet, or records in the gap.
                guard batch.baseOffset <= covered, batch.isControl else {
                    onlyMarkers = false
                    return false
                }
                covered = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                if covered >= gap.to { return false }
            }
            return true
        }
        return onlyMarkers && covered >= gap.to
    }
}
