import Contracts
import Foundation
import Kafka
import Streams

/// Runs a role's handler the way the runtime does, without Kafka: records in, records out, and the
/// role's internal (repartition) topics fed back in until nothing is left to process.
struct RoleHarness<Role: StreamRole> {
    let role: Role
    let internalTopics: Set<String>
    var store = StateStore<Role.State>()
    private var nextOffset: [String: Int64] = [:]
    var now = Date(timeIntervalSince1970: 1_795_000_000)

    init(_ role: Role, internalTopics: Set<String>) {
        self.role = role
        self.internalTopics = internalTopics
    }

    /// Sends one command (or event) and returns the records the role emits to non-internal topics.
    mutating func send<Message: TopicMessage>(
        _ message: Message, topic: String, id: String = UUID().uuidString, headers: KafkaHeaders = []
    ) async throws -> [KafkaProducerMessage] {
        try await send(topic: topic, key: message.key, type: Message.typeName, value: message.encoded(), id: id, headers: headers)
    }

    mutating func send(
        topic: String, key: String, type: String, value: [UInt8], id: String = UUID().uuidString, headers: KafkaHeaders = []
    ) async throws -> [KafkaProducerMessage] {
        var queue = [record(topic: topic, key: key, value: value, headers: [
            KafkaHeader(key: CloudEventHeader.id, string: id), KafkaHeader(key: CloudEventHeader.type, string: type),
        ] + headers)]
        var external: [KafkaProducerMessage] = []
        let processor = BatchProcessor(role: role)
        while !queue.isEmpty {
            let batch = queue
            queue = []
            let outcome = try await processor.process(batch, store: &store) { _ in }
            for message in outcome.messages where message.topic != role.changelogTopic {
                if internalTopics.contains(message.topic) {
                    queue.append(record(topic: message.topic, key: message.key.map { String(decoding: $0, as: UTF8.self) } ?? "", value: message.value ?? [], headers: message.headers))
                } else {
                    external.append(message)
                }
            }
        }
        return external
    }

    private mutating func record(topic: String, key: String, value: [UInt8], headers: KafkaHeaders) -> InboundRecord {
        let offset = nextOffset[topic, default: 0]
        nextOffset[topic] = offset + 1
        return InboundRecord(topic: topic, partition: 0, offset: offset, key: key, value: value, headers: headers, timestamp: now)
    }
}

extension KafkaProducerMessage {
    var type: String? { headers.string(CloudEventHeader.type) }

    func decoded<Message: Contract>(_ type: Message.Type) throws -> Message { try Message.decode(value ?? []) }
}
