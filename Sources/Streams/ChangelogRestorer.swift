import Foundation
import Kafka
import Logging

/// Rebuilds the state of assigned partitions from the role's changelog topic.
///
/// Reads `read_uncommitted` to the end of each partition (so that a transaction left open by a killed
/// worker cannot stall the restore) and keeps only records whose source input offset the group has
/// committed: the others belong to transactions that were aborted or are still open.
public struct ChangelogRestorer<State: Codable & Sendable & Equatable>: Sendable {
    let changelogTopic: String
    let bootstrapServers: String
    let logger: Logger
    let timeout: Duration

    public init(changelogTopic: String, bootstrapServers: String, logger: Logger, timeout: Duration = .seconds(120)) {
        self.changelogTopic = changelogTopic
        self.bootstrapServers = bootstrapServers
        self.logger = logger
        self.timeout = timeout
    }

    /// - Parameter committed: the group's committed offset per input topic for each partition.
    public func restore(
        partitions: [Int32],
        committed: [KafkaTopicPartition: Int64]
    ) async throws -> [Int32: [String: StoredState<State>]] {
        guard !partitions.isEmpty else { return [:] }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: bootstrapServers,
                groupID: "souk-restore",
                clientID: "souk-restore",
                isolationLevel: .readUncommitted,
                additional: ["enable.partition.eof": "true", "fetch.wait.max.ms": "10"]
            ),
            logger: logger
        )
        try await consumer.assign(partitions.map { KafkaTopicPartitionOffset(topic: changelogTopic, partition: $0, offset: .beginning) })
        var restored: [Int32: [String: StoredState<State>]] = Dictionary(uniqueKeysWithValues: partitions.map { ($0, [:]) })
        var remaining = Set(partitions)
        let decoder = JSONDecoder.souk
        let deadline = ContinuousClock.now + timeout
        while !remaining.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(kind: .retriable, codeName: "_TIMED_OUT", message: "restoring \(changelogTopic) partitions \(remaining.sorted()) took longer than \(timeout)")
            }
            let batch = try await consumer.pollBatch(maxMessages: 10_000, timeout: .milliseconds(100))
            for message in batch.messages {
                guard let source = ChangelogSource(headers: message.headers) else { continue }
                let sourcePartition = KafkaTopicPartition(topic: source.topic, partition: message.partition)
                guard let committedOffset = committed[sourcePartition], source.offset < committedOffset else { continue }
                let key = message.keyString ?? ""
                if let value = message.value {
                    restored[message.partition, default: [:]][key] = try decoder.decode(StoredState<State>.self, from: Data(value))
                } else {
                    restored[message.partition, default: [:]][key] = nil
                }
            }
            for partition in batch.endOfPartition.keys { remaining.remove(partition.partition) }
        }
        try await consumer.close()
        return restored
    }
}
