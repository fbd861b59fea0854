import Foundation
import Kafka
import Logging
import Streams
import Synchronization

/// Reads topics from their beginning in the background (assigned, no group, read_committed) and
/// keeps every record once per `ce_id`: the local broker can show the copy an aborted transaction
/// wrote, and Souk's deterministic ids make it the same record.
public final class TopicTap: Sendable {
    private final class Store: Sendable {
        let records = Mutex<[KafkaConsumerMessage]>([])
        let seen = Mutex<Set<String>>([])
    }

    private let store = Store()
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(stack: TestStack, topics: [String]) async throws {
        let admin = try stack.admin()
        var partitions: [KafkaTopicPartitionOffset] = []
        for topic in topics {
            let count = try await admin.describeTopic(topic)?.partitions ?? 1
            partitions += (0..<count).map { KafkaTopicPartitionOffset(topic: topic, partition: Int32($0), offset: .beginning) }
        }
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("tap")), logger: stack.logger)
        try await consumer.assign(partitions)
        task.withLock {
            $0 = Task { [store] in
                while !Task.isCancelled {
                    guard let batch = try? await consumer.poll(maxMessages: 1000, timeout: .milliseconds(100)) else { continue }
                    for message in batch {
                        let id = message.headers.string(CloudEventHeader.id) ?? "\(message.topic):\(message.partition):\(message.offset)"
                        guard store.seen.withLock({ $0.insert(id).inserted }) else { continue }
                        store.records.withLock { $0.append(message) }
                    }
                }
                try? await consumer.close(leavingGroup: false)
            }
        }
    }

    deinit { task.withLock { $0?.cancel() } }

    public func stop() { task.withLock { $0?.cancel() } }

    public var all: [KafkaConsumerMessage] { store.records.withLock { $0 } }

    /// Records with this key, in the order they were read (one partition's order for one key).
    public func records(key: String, topic: String? = nil) -> [KafkaConsumerMessage] {
        all.filter { $0.keyString == key && (topic == nil || $0.topic == topic) }
    }

    /// The short type names (`OrderCreated`) of `key`'s records on `topic`.
    public func types(key: String, topic: String) -> [String] {
        records(key: key, topic: topic).compactMap(\.shortType)
    }
}

extension KafkaConsumerMessage {
    /// `souk.order.OrderCreated.v1` → `OrderCreated`.
    public var shortType: String? {
        headers.string(CloudEventHeader.type).map { type in type.split(separator: ".").dropLast().last.map(String.init) ?? type }
    }
}
