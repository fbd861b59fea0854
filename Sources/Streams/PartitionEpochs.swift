import Kafka
import Synchronization

/// Per partition, a number that moves whenever the worker seeks the partition or drops it. A poll
/// takes the numbers on the consumer's own thread just before it reads (`KafkaConsumer.pollBatch(…snapshot:)`),
/// and a seek moves them on that thread right after it is applied (`KafkaConsumer.seek(…then:)`), so a
/// record whose partition's number differs from the one its poll took was read before a seek that
/// reads it again: it is stale and never handled. (Taken when the loop *starts* a poll instead, a
/// poll that ran only after a seek had its records dropped as stale and never read again.)
final class PartitionEpochs: Sendable {
    private let epochs = Mutex<[Int32: Int]>([:])

    var current: [Int32: Int] { epochs.withLock { $0 } }

    func bump(_ partitions: some Sequence<Int32>) {
        epochs.withLock { epochs in
            for partition in partitions { epochs[partition, default: 0] += 1 }
        }
    }
}

/// Records of one poll, with the epochs it took.
struct PolledChunk: Sendable {
    var messages: [KafkaConsumerMessage]
    var epochs: [Int32: Int]

    /// Calls `body` with each record still current (`now`: the epochs at hand) of a partition `accept` takes.
    func forEachCurrent(_ now: [Int32: Int], accept: (Int32) -> Bool, _ body: (KafkaConsumerMessage) -> Void) {
        for message in messages where now[message.partition] == epochs[message.partition] && accept(message.partition) { body(message) }
    }
}

extension KafkaConsumer {
    /// A poll whose records carry the epochs they were read under.
    func pollChunk(maxMessages: Int, timeout: Duration, epochs: PartitionEpochs) async throws -> PolledChunk {
        let (batch, taken) = try await pollBatch(maxMessages: maxMessages, timeout: timeout) { epochs.current }
        return PolledChunk(messages: batch.messages, epochs: taken)
    }

    /// Seeks, and moves the partitions' epochs as the seek is applied.
    func seek(_ positions: [KafkaTopicPartitionOffset], bumping partitions: Set<Int32>, in epochs: PartitionEpochs) async throws {
        try await seek(positions) { epochs.bump(partitions) }
    }
}
