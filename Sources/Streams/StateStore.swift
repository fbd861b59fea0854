/// What the changelog holds per key: the role's state and the ids of the records applied to it lately.
///
/// The ids travel with the state so that a record delivered twice (the local broker leaks records of
/// aborted transactions; a rewind re-reads a batch) is recognised after a restart or a rebalance too.
/// They outlive the state: a deleted key keeps its ids (state `nil`) until the dedupe window has passed.
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

    func hasApplied(_ id: String) -> Bool { applied.contains(id) }

    mutating func apply(_ change: HandlerResult<State>.StateChange) {
        switch change {
        case .unchanged: break
        case .set(let state): self.state = state
        case .delete: state = nil
        }
    }

    /// What the store keeps: nothing (a tombstone) once neither a state nor applied ids are left.
    var keptOrTombstone: StoredState? { state != nil || !applied.isEmpty ? self : nil }

    /// Remembers `id`, forgetting ids older than `window` before `time` but always keeping the newest
    /// `minimum`, and never more than `capacity`.
    mutating func remember(_ id: String, at time: Int64, window: DedupeWindow) {
        applied.append(id)
        appliedAt.append(time)
        let horizon = time - window.milliseconds
        var drop = 0
        while drop < applied.count - window.minimum, appliedAt[drop] < horizon { drop += 1 }
        drop = max(drop, applied.count - window.capacity)
        if drop > 0 {
            applied.removeFirst(drop)
            appliedAt.removeFirst(drop)
        }
    }

    /// A deleted key whose newest id is older than the window can go for good (a tombstone).
    func isExpired(at time: Int64, window: DedupeWindow) -> Bool {
        state == nil && (appliedAt.last ?? 0) < time - window.milliseconds
    }
}

/// Which redelivered records the runtime recognises: every copy whose record time is within
/// `milliseconds` of the newest record applied to its key (and, whatever their times, the newest
/// `minimum` ids), keeping at most `capacity` ids per key. The runtime's own redeliveries (a rewind
/// after an abort, a restore after a crash or rebalance, leaked records of aborted transactions) come
/// within seconds to minutes of the first copy; the default of 15 minutes covers them with margin.
public struct DedupeWindow: Sendable, Equatable {
    public var milliseconds: Int64
    public var minimum: Int
    public var capacity: Int

    public init(duration: Duration = .seconds(900), minimum: Int = 64, capacity: Int = 20_000) {
        milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        self.minimum = minimum
        self.capacity = capacity
    }
}

/// The in-memory state of the partitions a worker owns, restored from the changelog on assignment.
public struct StateStore<State: Codable & Sendable & Equatable>: Sendable {
    private(set) var partitions: [Int32: [String: StoredState<State>]] = [:]
    /// The changelog version each key was last written with, for snapshots.
    private(set) var versions: [Int32: [String: ChangelogVersion]] = [:]
    /// Deleted keys that still keep applied ids, oldest deletion first: they go once the window passes.
    private var ghosts: [Int32: [(key: String, at: Int64)]] = [:]

    public init() {}

    public subscript(partition: Int32, key: String) -> StoredState<State>? {
        get { partitions[partition]?[key] }
        set { partitions[partition, default: [:]][key] = newValue }
    }

    public func state(partition: Int32, key: String) -> State? { self[partition, key]?.state }

    public var ownedPartitions: Set<Int32> { Set(partitions.keys) }

    public func entries(partition: Int32) -> [String: StoredState<State>] { partitions[partition] ?? [:] }

    func versions(partition: Int32) -> [String: ChangelogVersion] { versions[partition] ?? [:] }

    mutating func setVersion(_ version: ChangelogVersion, partition: Int32, key: String) {
        versions[partition, default: [:]][key] = version
    }

    mutating func install(partition: Int32, _ entries: [String: StoredState<State>], versions: [String: ChangelogVersion] = [:]) {
        partitions[partition] = entries
        self.versions[partition] = versions
        ghosts[partition] = entries.compactMap { entry in entry.value.state == nil ? (entry.key, entry.value.appliedAt.last ?? 0) : nil }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    mutating func drop(partition: Int32) {
        partitions[partition] = nil
        versions[partition] = nil
        ghosts[partition] = nil
    }

    mutating func noteGhost(partition: Int32, key: String, at time: Int64) {
        ghosts[partition, default: []].append((key, time))
    }

    /// Removes from the queue the deleted keys whose last id is older than `horizon`, and returns those
    /// still deleted (a key set again since is no ghost any more).
    mutating func expireGhosts(partition: Int32, before horizon: Int64) -> [String] {
        guard let queue = ghosts[partition], let first = queue.first, first.at < horizon else { return [] }
        let count = queue.prefix { $0.at < horizon }.count
        ghosts[partition]!.removeFirst(count)
        return queue.prefix(count).compactMap { ghost in
            guard let stored = self[partition, ghost.key], stored.state == nil, (stored.appliedAt.last ?? 0) < horizon else { return nil }
            return ghost.key
        }
    }
}
