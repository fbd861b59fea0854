import Foundation
import Kafka

/// `souk lag`: per group and partition, the committed offset, the end offset a read_committed reader
/// sees, the lag, and who holds the partition. Committed offsets are what the groups' transactions
/// committed, so the numbers hold for exactly-once workers too.
public struct GroupLagReport: Sendable {
    public var groups: [KafkaGroupDescription]

    public static func collect(admin: KafkaAdminClient, group: String?) async throws -> GroupLagReport {
        let names: [String]
        if let group {
            guard try await admin.listGroups().contains(where: { $0.groupID == group }) else { throw OperatorError.unknownGroup(group) }
            names = [group]
        } else {
            names = try await admin.listGroups().map(\.groupID).filter { $0.hasPrefix("souk-") && !$0.hasPrefix("souk-tail-") && !$0.hasPrefix("souk-load-") && $0 != "souk-end-offset-probe" }.sorted()
        }
        var groups: [KafkaGroupDescription] = []
        for name in names { groups.append(try await admin.describeGroup(name)) }
        return GroupLagReport(groups: groups)
    }

    public var table: String {
        var lines = ["GROUP  STATE  TOPIC/PARTITION  COMMITTED  END  LAG  MEMBER"]
        for group in groups {
            let owners = Dictionary(group.members.flatMap { member in member.assignment.map { ($0, member.clientID) } }, uniquingKeysWith: { first, _ in first })
            if group.partitions.isEmpty { lines.append("\(group.groupID)  \(group.state)  -  -  -  -  \(group.members.count) member(s)") }
            for partition in group.partitions {
                lines.append(
                    "\(group.groupID)  \(group.state)  \(partition.topicPartition.topic)/\(partition.topicPartition.partition)  "
                        + "\(partition.committed.map(String.init) ?? "-")  \(partition.endOffset)  \(partition.lag)  \(owners[partition.topicPartition] ?? "-")"
                )
            }
            lines.append("\(group.groupID)  total lag \(group.totalLag), \(group.members.count) member(s)")
        }
        return Self.aligned(lines)
    }

    public var json: String {
        let objects: [[String: Any]] = groups.map { group in
            [
                "group": group.groupID, "state": group.state, "totalLag": Int(group.totalLag),
                "members": group.members.map { ["memberId": $0.memberID, "clientId": $0.clientID, "host": $0.host, "partitions": $0.assignment.map { "\($0.topic)/\($0.partition)" }] },
                "partitions": group.partitions.map {
                    ["topic": $0.topicPartition.topic, "partition": Int($0.topicPartition.partition), "committed": $0.committed.map { Int($0) } as Any, "end": Int($0.endOffset), "lag": Int($0.lag)]
                },
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Columns separated by two spaces become aligned columns.
    static func aligned(_ lines: [String]) -> String {
        let rows = lines.map { $0.components(separatedBy: "  ") }
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
