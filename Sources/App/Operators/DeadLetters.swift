import Foundation
import Kafka
import Logging
import Streams

/// A record a role could not process, as its dead-letter topic keeps it.
public struct DeadLetter: Sendable, Equatable {
    /// `partition:offset` on the dead-letter topic: what `souk dlq redrive --id` takes.
    public var id: String
    public var reason: String
    public var sourceTopic: String?
    public var sourcePartition: Int32?
    public var sourceOffset: Int64?
    public var type: String?
    public var key: String?
    public var time: String
    public var message: KafkaConsumerMessage

    init(_ message: KafkaConsumerMessage) {
        self.message = message
        id = "\(message.partition):\(message.offset)"
        reason = message.headers.string(DeadLetterHeader.reason) ?? "(no reason recorded)"
        sourceTopic = message.headers.string(DeadLetterHeader.sourceTopic)
        sourcePartition = message.headers.string(DeadLetterHeader.sourcePartition).flatMap(Int32.init)
        sourceOffset = message.headers.string(DeadLetterHeader.sourceOffset).flatMap(Int64.init)
        type = message.headers.string(CloudEventHeader.type)
        key = message.keyString
        time = RecordFormatter.time(message.timestampMilliseconds)
    }

    public var line: String {
        let source = sourceTopic.map { "\($0)/\(sourcePartition.map(String.init) ?? "?")@\(sourceOffset.map(String.init) ?? "?")" } ?? "?"
        return "\(id)  \(time)  \(RecordFormatter.shortType(type))  key=\(key ?? "-")  from \(source)  \(reason)"
    }
}

extension DeadLetterTool {
    /// Whether a read_committed reader gets the records at `offsets` (the last written per partition).
    func readable(_ offsets: [KafkaTopicPartition: Int64], within timeout: Duration) async throws -> Bool {
        let reader = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: "souk-dlq-check-\(role)", additional: ["fetch.wait.max.ms": "20"]),
            logger: logger
        )
        defer { Task { try? await reader.close(leavingGroup: false) } }
        try await reader.assign(offsets.map { KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value)) })
        var seen = Set<KafkaTopicPartition>()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for message in try await reader.poll(maxMessages: 1000, timeout: .milliseconds(100)) where message.offset >= offsets[message.topicPartition] ?? .max {
                seen.insert(message.topicPartition)
            }
            if seen.count == offsets.count { return true }
        }
        return false
    }
}

/// `souk dlq`: lists a role's dead letters and re-injects chosen ones into the topic they came from,
/// in one transaction, stamped with where they were, keeping their ids (so a redriven record that
/// was applied after all is dropped by the role as a duplicate, and redriving twice changes nothing).
public struct DeadLetterTool: Sendable {
    public static let redrivenFromHeader = "souk_redriven_from"

    public let role: String
    public let bootstrapServers: String
    public let logger: Logger

    public init(role: String, bootstrapServers: String, logger: Logger) {
        self.role = role
        self.bootstrapServers = bootstrapServers
        self.logger = logger
    }

    public var topic: String { "souk.\(role).dlq.v1" }

    public func list() async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        try await TopicTail(topics: [topic], start: .earliest, follow: false).run(bootstrapServers: bootstrapServers, logger: logger) { letters.append(DeadLetter($0)) }
        return letters
    }

    /// The chosen dead letters (all when `ids` is empty) and what redriving them would write.
    public func plan(ids: [String]) async throws -> [DeadLetter] {
        let letters = try await list()
        guard !ids.isEmpty else { return letters }
        let unknown = ids.filter { id in !letters.contains { $0.id == id } }
        guard unknown.isEmpty else { throw OperatorError.invalid("no dead letter \(unknown.joined(separator: ", ")) on \(topic) (see `souk dlq list \(role)`)") }
        return letters.filter { ids.contains($0.id) }
    }

    /// Writes the dead letters back to their source topics in one transaction.
    public func redrive(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        for letter in letters where letter.sourceTopic == nil {
            throw OperatorError.invalid("dead letter \(letter.id) does not say where it came from")
        }
        // The local broker can acknowledge a commit it never completes (see the README); the records
        // must be readable before the redrive counts as done. A new producer under the same
        // transactional id aborts what was left open, and the records are written again: they keep
        // their ids, so the role applies them once.
        for attempt in 1...3 {
            let producer = try KafkaTransactionalProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers), transactionalID: "souk-dlq-redrive-\(role)", logger: logger
            )
            try await producer.initTransactions()
            let written = try await producer.withTransaction { txn in
                var written: [KafkaTopicPartition: Int64] = [:]
                for letter in letters {
                    let headers = KafkaHeaders(letter.message.headers.filter { !$0.key.hasPrefix("dlq_") && $0.key != Self.redrivenFromHeader })
                        + [KafkaHeader(key: Self.redrivenFromHeader, string: "\(topic):\(letter.id)")]
                    let report = try await txn.send(KafkaProducerMessage(topic: letter.sourceTopic!, key: letter.message.key, value: letter.message.value, headers: headers))
                    let partition = KafkaTopicPartition(topic: report.topic, partition: report.partition)
                    written[partition] = max(written[partition] ?? -1, report.offset)
                }
                return written
            }
            try await producer.close()
            if try await readable(written, within: .seconds(5)) { return }
            logger.warning("redriven records are not readable yet; writing them again", metadata: ["attempt": "\(attempt)"])
        }
        throw OperatorError.invalid("the broker did not make the redriven records readable; run the redrive again (it is idempotent)")
    }
}
