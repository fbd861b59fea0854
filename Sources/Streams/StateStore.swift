/// What the changelog holds per key: the role's state, or (under the reserved keys of `DedupeBucket`)
/// the ids of the records a batch applied.
///
/// The ids are in the changelog so that a record delivered twice (the local broker leaks records of
/// aborted transactions; a rewind re-reads a batch) is recognised after a restart or a rebalance too.
/// They live apart from the state, one bucket per batch and partition, written once: a hot key's
/// changelog record stays the size of its state, however many records change it. Keys written by
/// earlier versions still carry their own ids; they move to a bucket when the key is next written.
public struct StoredState<State: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var state: State?
    public var applied: [String]
    /// Record time (ms since the epoch) of each id in `applied`, oldest first.
    public var appliedAt: [Int64]

    public init(state: State?, applied: [String] = [], appliedAt: [Int64]? = nil) {
        self.state = state
        self.applied = applied
        self.appliedAt = appliedAt ?? Array(repeating: 0, count: applied.count)
    }

    enum CodingKeys: String, CodingKey {
        case state, applied, appliedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        state = try container.decodeIfPresent(State.self, forKey: .state)
        applied = try container.decode([String].self, forKey: .applied)
        appliedAt = try container.decodeIfPresent([Int64].self, forKey: .appliedAt) ?? Array(repeating: 0, count: applied.count)
    }

    mutating func apply(_ change: HandlerResult<State>.StateChange) {
        switch change {
        case .unchanged: break
        case .set(let state): self.state = state
        case .delete: state = nil
        }
    }

    /// What the store keeps: nothing (a tombstone) once neither a state nor applied ids are left.
    var keptOrTombstone: StoredState? { state != nil || !applied.isEmpty ? self : nil }

    /// The record time of the newest id it holds.
    var newestAppliedAt: Int64 { appliedAt.max() ?? 0 }
}

/// The reserved changelog keys that hold applied ids: one per batch and partition (more when a batch's
/// ids would not fit one record), named after the batch's changelog version.
enum DedupeBucket {
    static let prefix = "\u{1}souk.dedupe."

    static func key(_ version: ChangelogVersion, part: Int) -> String {
        "\(prefix)\(version.generation).\(version.sequence).\(part)"
    }

    /// The most one remembered id takes in a bucket's encoding, with its time.
    static let bytesPerID = 320

    /// The form an id is remembered in: a long one (an upstream producer's choice) by its length and a
    /// digest, so that every bucket fits in a record.
    static func remembered(_ id: String) -> String {
        let utf8 = id.utf8
        guard utf8.count > 200 else { return id }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return "\(id.prefix(32))…\(utf8.count).\(String(hash, radix: 16))"
    }
}

/// Which redelivered records the runtime recognises: every copy whose record time is within
/// `milliseconds` of the newest record handled in its partition, among the newest `capacity` ids of
/// the partition. The runtime's own redeliveries (a rewind after an abort, a restore after a crash or
/// rebalance, leaked records of aborted transactions) re-read at most the records since the last
/// commit, within seconds of the first copy; the defaults (15 minutes, 200,000 records per
/// partition) cover them with margin and bound the memory the ids take.
public struct DedupeWindow: Sendable, Equatable {
    public var milliseconds: Int64
    public var capacity: Int

    public init(duration: Duration = .seconds(900), capacity: Int = 200_000) {
        milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        self.capacity = capacity
    }
}

/// The in-memory state of the partitions a worker owns, restored from the changelog on assignment.
public struct StateStore<State: Codable & Sendable & Equatable>: Sendable {
    private(set) var partitions: [Int32: [String: StoredState<State>]] = [:]
    /// The changelog version each key was last written with, for snapshots.
    private(set) var versions: [Int32: [String: ChangelogVersion]] = [:]
    /// Keys that hold applied ids and no state (buckets, and deleted keys of earlier versions), oldest
    /// first: they go once the window passes.
    private var ghosts: [Int32: [(key: String, at: Int64)]] = [:]
    /// Every applied id of a partition, with the key that holds it.
    private var appliedIDs: [Int32: [String: String]] = [:]

    public init() {}

    public subscript(partition: Int32, key: String) -> StoredState<State>? {
        get { partitions[partition]?[key] }
        set {
            let old = partitions[partition]?[key]
            partitions[partition, default: [:]][key] = newValue
            if let old, !old.applied.isEmpty {
                for id in old.applied.map(DedupeBucket.remembered) where appliedIDs[partition]?[id] == key { appliedIDs[partition]![id] = nil }
            }
            if let newValue, !newValue.applied.isEmpty {
                for id in newValue.applied { appliedIDs[partition, default: [:]][DedupeBucket.remembered(id)] = key }
            }
        }
    }

    public func state(partition: Int32, key: String) -> State? { self[partition, key]?.state }

    /// Whether a record with this id was applied (or dead-lettered) in the partition within the window.
    func hasApplied(_ id: String, partition: Int32) -> Bool { appliedIDs[partition]?[DedupeBucket.remembered(id)] != nil }

    /// How many applied ids the partition remembers.
    func appliedCount(partition: Int32) -> Int { appliedIDs[partition]?.count ?? 0 }

    public var ownedPartitions: Set<Int32> { Set(partitions.keys) }

    public func entries(partition: Int32) -> [String: StoredState<State>] { partitions[partition] ?? [:] }

    func versions(partition: Int32) -> [String: ChangelogVersion] { versions[partition] ?? [:] }

    mutating func setVersion(_ version: ChangelogVersion, partition: Int32, key: String) {
        versions[partition, default: [:]][key] = version
    }

    mutating func install(partition: Int32, _ entries: [String: StoredState<State>], versions: [String: ChangelogVersion] = [:]) {
        partitions[partition] = entries
        self.versions[partition] = versions
        // Buckets are named after the batch that wrote them: in that order they expire.
        ghosts[partition] = entries.compactMap { entry in entry.value.state == nil ? (entry.key, entry.value.newestAppliedAt) : nil }
            .sorted { ($0.1, versions[$0.0] ?? .initial, $0.0) < ($1.1, versions[$1.0] ?? .initial, $1.0) }
        var ids: [String: String] = [:]
        for (key, stored) in entries {
            for id in stored.applied { ids[DedupeBucket.remembered(id)] = key }
        }
        appliedIDs[partition] = ids
    }

    mutating func drop(partition: Int32) {
        partitions[partition] = nil
        versions[partition] = nil
        ghosts[partition] = nil
        appliedIDs[partition] = nil
    }

    mutating func noteGhost(partition: Int32, key: String, at time: Int64) {
        ghosts[partition, default: []].append((key, time))
    }

    /// Removes from the queue the keys that hold only ids older than `horizon`, then the oldest while
    /// the partition remembers more than `capacity` ids (never one of `keeping`, the current batch's),
    /// and returns those still without a state (a key set again since is no ghost any more): they can
    /// go for good.
    mutating func expireGhosts(partition: Int32, before horizon: Int64, capacity: Int, keeping: Set<String> = []) -> [String] {
        guard let queue = ghosts[partition], !queue.isEmpty else { return [] }
        var remembered = appliedCount(partition: partition)
        var count = 0
        var expired: [String] = []
        for ghost in queue {
            let overCapacity = remembered > capacity && !keeping.contains(ghost.key)
            guard ghost.at < horizon || overCapacity else { break }
            count += 1
            guard let stored = self[partition, ghost.key], stored.state == nil else { continue }
            // A bucket that took ids since it was queued (its batch ran again) has a later entry too.
            guard stored.newestAppliedAt < horizon || overCapacity else { continue }
            remembered -= stored.applied.count
            expired.append(ghost.key)
        }
        ghosts[partition]!.removeFirst(count)
        return expired
    }
}
