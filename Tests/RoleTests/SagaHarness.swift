import Contracts
import Foundation
import Kafka
import Streams

/// Every role of the order flow wired by topic, without Kafka: each output goes to the role that
/// consumes its topic (one partition, records in order), the rest is collected as the system's
/// visible output. Time only passes when a test says so, and timers fire on the ticks it sends.
final class SagaHarness {
    private var runners: [any TopicRunner] = []
    private(set) var published: [KafkaProducerMessage] = []
    private(set) var deadLetters: [KafkaProducerMessage] = []
    var now = Date(timeIntervalSince1970: 1_795_000_000)
    private var offsets: [String: Int64] = [:]

    func add<Role: StreamRole>(_ role: Role) -> RoleRunner<Role> {
        let runner = RoleRunner(role)
        runners.append(runner)
        return runner
    }

    /// Sends a record and everything it causes, until the system is quiet.
    func send(topic: String, key: String?, type: String, value: [UInt8], headers: KafkaHeaders = []) async throws {
        var queue = [KafkaProducerMessage(topic: topic, key: key.map { Array($0.utf8) }, value: value, headers: [KafkaHeader(key: CloudEventHeader.type, string: type)] + headers)]
        while !queue.isEmpty {
            let message = queue.removeFirst()
            guard let runner = runners.first(where: { $0.consumes(message.topic) }) else {
                published.append(message)
                continue
            }
            let offset = offsets[message.topic, default: 0]
            offsets[message.topic] = offset + 1
            let record = InboundRecord(
                topic: message.topic, partition: 0, offset: offset, key: message.key.map { String(decoding: $0, as: UTF8.self) }, value: message.value,
                headers: message.headers, timestamp: now
            )
            for output in try await runner.process(record) {
                if output.topic.hasSuffix(".changelog.v1") { continue }
                if output.topic.hasSuffix(".dlq.v1") { deadLetters.append(output) } else { queue.append(output) }
            }
        }
    }

    func send<Message: TopicMessage>(_ message: Message, to topic: String) async throws {
        try await send(topic: topic, key: message.key, type: Message.typeName, value: try message.encoded())
    }

    /// Lets time pass and ticks the timers.
    func advance(by seconds: TimeInterval) async throws {
        now += seconds
        try await send(topic: TimerClient.defaultTopic, key: nil, type: TimerTick.type, value: Array("{}".utf8))
    }

    /// Published events of `type`, decoded.
    func events<Message: Contract>(_ type: Message.Type) throws -> [Message] {
        try published.filter { $0.headers.string(CloudEventHeader.type) == Message.typeName }.map { try Message.decode($0.value ?? []) }
    }

    var publishedTypes: [String] {
        published.compactMap { $0.headers.string(CloudEventHeader.type)?.split(separator: ".").dropLast().last.map(String.init) }
    }
}

protocol TopicRunner: AnyObject {
    func consumes(_ topic: String) -> Bool
    func process(_ record: InboundRecord) async throws -> [KafkaProducerMessage]
}

final class RoleRunner<Role: StreamRole>: TopicRunner {
    let processor: BatchProcessor<Role>
    var store = StateStore<Role.State>()

    init(_ role: Role) { processor = BatchProcessor(role: role) }

    func consumes(_ topic: String) -> Bool { processor.role.inputTopics.contains(topic) }

    func process(_ record: InboundRecord) async throws -> [KafkaProducerMessage] {
        // Transient failures are retried without waiting: the harness's time is its own.
        try await processor.process([record], store: &store, sleep: { _ in }).messages
    }

    func state(_ key: String) -> Role.State? { store.state(partition: 0, key: key) }
}
