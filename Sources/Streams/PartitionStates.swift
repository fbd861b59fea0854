/// The states of one partition's keys, as a partition-wide input sees them: read-only, and without
/// copying the store (the dictionary is shared until the batch writes to it).
public struct PartitionStates<State: Codable & Sendable & Equatable>: Sequence, Sendable {
    let entries: [String: StoredState<State>]

    public init(_ states: [String: State]) {
        entries = states.mapValues { StoredState(state: $0) }
    }

    init(entries: [String: StoredState<State>]) {
        self.entries = entries
    }

    public subscript(key: String) -> State? { entries[key]?.state }

    /// Every key that holds a state, with it.
    public func makeIterator() -> some IteratorProtocol<(key: String, state: State)> {
        var inner = entries.makeIterator()
        return AnyIterator {
            while let (key, stored) = inner.next() {
                if let state = stored.state { return (key, state) }
            }
            return nil
        }
    }
}

/// What a partition-wide input decided: a change per key it touched, and the messages to emit.
public struct PartitionResult<State: Sendable & Equatable>: Sendable {
    public var changes: [String: HandlerResult<State>.StateChange]
    public var outputs: [OutboundMessage]

    public init(changes: [String: HandlerResult<State>.StateChange] = [:], outputs: [OutboundMessage] = []) {
        self.changes = changes
        self.outputs = outputs
    }
}
