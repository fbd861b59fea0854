/// What the changelog holds per key: the role's state and the ids of the latest records applied to it.
///
/// The ids travel with the state so that a record delivered twice (the local broker leaks records of
/// aborted transactions) is recognised after a restart or a rebalance too.
public struct StoredState<State: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var state: State?
    public var applied: [String]

    public init(state: State?, applied: [String] = []) {
        self.state = state
        self.applied = applied
    }

    func hasApplied(_ id: String) -> Bool { applied.contains(id) }

    mutating func remember(_ id: String, window: Int) {
        applied.append(id)
        if applied.count > window { applied.removeFirst(applied.count - window) }
    }
}

/// The in-memory state of the partitions a worker owns, restored from the changelog on assignment.
public struct StateStore<State: Codable & Sendable & Equatable>: Sendable {
    private(set) var partitions: [Int32: [String: StoredState<State>]] = [:]

    public init() {}

    public subscript(partition: Int32, key: String) -> StoredState<State>? {
        get { partitions[partition]?[key] }
        set { partitions[partition, default: [:]][key] = newValue }
    }

    public func state(partition: Int32, key: String) -> State? { self[partition, key]?.state }

    public var ownedPartitions: Set<Int32> { Set(partitions.keys) }

    public func entries(partition: Int32) -> [String: StoredState<State>] { partitions[partition] ?? [:] }

    mutating func install(partition: Int32, _ entries: [String: StoredState<State>]) {
        partitions[partition] = entries
    }

    mutating func drop(partition: Int32) {
        partitions[partition] = nil
    }
}
