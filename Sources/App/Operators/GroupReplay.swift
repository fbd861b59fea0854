import Foundation
import Kafka

/// `souk replay`: moves an inactive group's committed offsets, saying what it will do first.
public struct GroupReplay: Sendable {
    public struct Move: Sendable, Equatable {
        public var partition: KafkaTopicPartition
        public var from: Int64?
        public var to: Int64

        public init(partition: KafkaTopicPartition, from: Int64?, to: Int64) {
            self.partition = partition
            self.from = from
            self.to = to
        }
    }

    public let admin: KafkaAdminClient
    public init(admin: KafkaAdminClient) { self.admin = admin }

    /// The moves, refusing while the group has live members (Kafka would refuse too, later).
    public func plan(group: String, target: KafkaOffsetTarget, topic: String?) async throws -> [Move] {
        guard try await admin.listGroups().contains(where: { $0.groupID == group }) else { throw OperatorError.unknownGroup(group) }
        let (_, members) = try await admin.describeGroupMembers(group)
        if !members.isEmpty { throw OperatorError.groupActive(group, members: members.count) }
        let committed = try await admin.committedOffsets(group)
        var partitions = Set(committed.keys)
        if let topic {
            guard try await admin.describeTopic(topic) != nil else { throw OperatorError.unknownTopic(topic) }
            partitions = partitions.filter { $0.topic == topic }.union(try await admin.partitions(of: topic))
        }
        guard !partitions.isEmpty else { throw OperatorError.invalid("group \(group) has no committed offsets; name the topic with --topic") }
        let resolved = try await admin.resolveOffsets(target, for: Array(partitions))
        return partitions.sorted().map { Move(partition: $0, from: committed[$0], to: resolved[$0] ?? 0) }
    }

    public func apply(group: String, _ moves: [Move]) async throws {
        try await admin.alterGroupOffsets(group, to: Dictionary(uniqueKeysWithValues: moves.map { ($0.partition, $0.to) }))
    }

    public static func table(_ moves: [Move]) -> String {
        GroupLagReport.aligned(
            ["TOPIC/PARTITION  COMMITTED  NEW"]
                + moves.map { "\($0.partition.topic)/\($0.partition.partition)  \($0.from.map(String.init) ?? "-")  \($0.to)" }
        )
    }
}

extension KafkaOffsetTarget {
    /// `earliest`, `latest`, an offset, an RFC 3339 time or a duration back (`10m`).
    public init?(argument: String, now: Date = Date()) {
        guard let start = TailStart(argument, now: now) else { return nil }
        switch start {
        case .earliest: self = .earliest
        case .latest: self = .latest
        case .offset(let offset): self = .offset(offset)
        case .time(let date): self = .timestamp(milliseconds: Int64(date.timeIntervalSince1970 * 1000))
        }
    }
}
