import Foundation
import Kafka
import Logging
import Streams
import Timestamps

/// Where `souk tail` starts reading each partition.
public enum TailStart: Sendable, Equatable {
    case earliest
    case latest
    case offset(Int64)
    case time(Date)

    /// `earliest`, `latest`, an offset, an RFC 3339 time, or a duration back from now (`10m`, `2h`, `30s`).
    public init?(_ text: String, now: Date = Date()) {
        switch text {
        case "earliest", "beginning": self = .earliest
        case "latest", "end": self = .latest
        default:
            if let offset = Int64(text), offset >= 0 {
                self = .offset(offset)
            } else if let date = Date(rfc3339: text) {
                self = .time(date)
            } else if let unit = text.last, let amount = Double(text.dropLast()), let seconds = ["s": 1.0, "m": 60, "h": 3600, "d": 86_400][String(unit)] {
                self = .time(now - amount * seconds)
            } else {
                return nil
            }
        }
    }
}

/// Follows topics from a starting point, filtering by key and type; reads committed data unless told
/// otherwise. Uses no consumer group: partitions are assigned, nothing is committed.
public struct TopicTail: Sendable {
    public var topics: [String]
    public var start: TailStart
    public var key: String?
    public var types: [String]
    public var follow: Bool
    public var readUncommitted: Bool

    public init(topics: [String], start: TailStart, key: String? = nil, types: [String] = [], follow: Bool = true, readUncommitted: Bool = false) {
        self.topics = topics
        self.start = start
        self.key = key
        self.types = types
        self.follow = follow
        self.readUncommitted = readUncommitted
    }

    public func matches(_ message: KafkaConsumerMessage) -> Bool {
        if let key, message.keyString != key { return false }
        if !types.isEmpty {
            let type = message.headers.string(CloudEventHeader.type)
            guard types.contains(where: { $0 == type || $0 == RecordFormatter.shortType(type) }) else { return false }
        }
        return true
    }

    /// Reads until `follow` is off and every partition is at its end, or until `limit` records matched.
    public func run(bootstrapServers: String, logger: Logger, limit: Int? = nil, _ emit: (KafkaConsumerMessage) -> Void) async throws {
        let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        var partitions: [KafkaTopicPartition] = []
        for topic in topics {
            guard let description = try await admin.describeTopic(topic) else { throw OperatorError.unknownTopic(topic) }
            partitions += (0..<description.partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        }
        // Without --follow the end is needed anyway: fetched once, it also resolves the start.
        let ends = follow ? [:] : try await admin.endOffsets(partitions)
        let known = follow ? nil : ends
        let starts: [KafkaTopicPartition: Int64] =
            switch start {
            case .earliest: try await admin.resolveOffsets(.earliest, for: partitions, knownEnds: known)
            case .latest: try await admin.resolveOffsets(.latest, for: partitions, knownEnds: known)
            case .offset(let offset): try await admin.resolveOffsets(.offset(offset), for: partitions, knownEnds: known)
            case .time(let date): try await admin.resolveOffsets(.timestamp(milliseconds: Int64(date.timeIntervalSince1970 * 1000)), for: partitions)
            }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: bootstrapServers, groupID: "souk-tail-\(UUID().uuidString)",
                isolationLevel: readUncommitted ? .readUncommitted : .readCommitted, additional: ["fetch.wait.max.ms": "50", "enable.partition.eof": "true"]
            ),
            logger: logger
        )
        try await consumer.assign(partitions.map { KafkaTopicPartitionOffset($0, offset: KafkaOffset(starts[$0] ?? 0)) })
        var done = Set(partitions.filter { (starts[$0] ?? 0) >= (ends[$0] ?? Int64.max) })
        var matched = 0
        defer { Task { try? await consumer.close(leavingGroup: false) } }
        while !Task.isCancelled {
            if !follow && done.count == partitions.count { return }
            let batch = try await consumer.pollBatch(maxMessages: 1000, timeout: .milliseconds(200))
            for message in batch.messages {
                if !follow, let end = ends[message.topicPartition], message.offset + 1 >= end { done.insert(message.topicPartition) }
                guard matches(message) else { continue }
                emit(message)
                matched += 1
                if let limit, matched >= limit { return }
            }
            if !follow {
                for (partition, offset) in batch.endOfPartition where offset >= (ends[partition] ?? 0) { done.insert(partition) }
            }
        }
    }
}

/// Errors operators see, with what to do about them.
public enum OperatorError: Error, CustomStringConvertible, Equatable {
    case unknownTopic(String)
    case unknownGroup(String)
    case groupActive(String, members: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .unknownTopic(let topic): "unknown topic \(topic) (see `souk topics list`)"
        case .unknownGroup(let group): "unknown consumer group \(group) (see `souk lag`)"
        case .groupActive(let group, let members): "group \(group) has \(members) live member(s): stop its workers first"
        case .invalid(let reason): reason
        }
    }

    /// Exit statuses scripts can rely on.
    public var exitCode: Int32 {
        switch self {
        case .unknownTopic, .unknownGroup: 3
        case .groupActive: 4
        case .invalid: 2
        }
    }
}
