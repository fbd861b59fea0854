import Kafka

/// Which input record a changelog record came from, and which owner wrote it when.
///
/// Restore keeps, per key, the record with the highest version among those whose source the group
/// has committed: records of aborted or still-open transactions (which the local broker delivers
/// anyway) lose to the rewrite that follows every abort, and a previous owner's leftovers lose to the
/// next owner's generation.
public struct ChangelogSource: Equatable, Sendable {
    static let topicHeader = "souk_source_topic"
    static let offsetHeader = "souk_source_offset"
    static let generationHeader = "souk_generation"
    static let sequenceHeader = "souk_sequence"
    /// The transactional id that wrote the record: a partition's next owner fences it
    /// (`KafkaEpochRepair.endLastWriter`).
    static let writerHeader = "souk_writer"

    public var topic: String
    public var offset: Int64
    public var version: ChangelogVersion

    public init(topic: String, offset: Int64, version: ChangelogVersion = .initial) {
        self.topic = topic
        self.offset = offset
        self.version = version
    }

    public var headers: KafkaHeaders {
        var headers = KafkaHeaders(reservingBytes: 96 + topic.utf8.count, count: 4)
        headers.append(name: Self.topicHeader, string: topic)
        headers.append(name: Self.offsetHeader, string: String(offset))
        headers.append(name: Self.generationHeader, string: String(version.generation))
        headers.append(name: Self.sequenceHeader, string: String(version.sequence))
        return headers
    }

    public init?(headers: KafkaHeaders) {
        guard let topic = headers.string(Self.topicHeader), let offset = headers.string(Self.offsetHeader).flatMap(Int64.init) else {
            return nil
        }
        let generation = headers.string(Self.generationHeader).flatMap(Int64.init) ?? 0
        let sequence = headers.string(Self.sequenceHeader).flatMap(Int64.init) ?? 0
        self.init(topic: topic, offset: offset, version: ChangelogVersion(generation: generation, sequence: sequence))
    }
}

/// The order of a partition's changelog writes across owners and transactions: an owner's generation
/// is one above the highest it restored, and every transaction it attempts (committed or aborted) gets
/// the next sequence number.
public struct ChangelogVersion: Comparable, Hashable, Sendable, Codable {
    public var generation: Int64
    public var sequence: Int64

    public static let initial = ChangelogVersion(generation: 0, sequence: 0)

    public init(generation: Int64, sequence: Int64) {
        self.generation = generation
        self.sequence = sequence
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.generation, lhs.sequence) < (rhs.generation, rhs.sequence)
    }

    /// The version of the next transaction of the same owner.
    public var next: ChangelogVersion { ChangelogVersion(generation: generation, sequence: sequence + 1) }
}

/// The key of a changelog record that only carries a partition's offsets (the local broker never
/// commits a transaction without a record); restore skips it.
enum ChangelogMarker {
    static let positionKey = "\u{1}souk.position"
}
