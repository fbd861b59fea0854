import Streams

/// A diagnostic role: counts increments per key and emits the running count.
///
/// It exercises everything the runtime offers (keyed state from the changelog, dedupe, dead letters)
/// with a result that is easy to check: after any crash or rebalance, each key's count must equal the
/// number of increments produced for it. Used by the runtime's tests and benchmark.
public struct CountingRole: StreamRole {
    public struct Increment: Decodable, Sendable {
        public var amount: Int
    }

    public struct Counted: Codable, Sendable, Equatable {
        public var key: String
        public var count: Int

        public init(key: String, count: Int) {
            self.key = key
            self.count = count
        }
    }

    public let name: String
    public let inputTopics: [String]
    public let outputTopic: String

    public init(name: String = "counter", inputTopic: String, outputTopic: String) {
        self.init(name: name, inputTopics: [inputTopic], outputTopic: outputTopic)
    }

    /// Increments from several topics (co-partitioned, keyed alike) add up in one count per key.
    public init(name: String = "counter", inputTopics: [String], outputTopic: String) {
        self.name = name
        self.inputTopics = inputTopics
        self.outputTopic = outputTopic
    }

    public func handle(_ input: Increment, state: Int?, context: HandlerContext) throws -> HandlerResult<Int> {
        guard input.amount > 0 else { throw PoisonMessage("amount must be positive, got \(input.amount)") }
        let count = (state ?? 0) + input.amount
        let key = context.record.stateKey
        return HandlerResult(
            state: .set(count),
            outputs: [try OutboundMessage(topic: outputTopic, key: key, type: "souk.diagnostics.Counted.v1", payload: Counted(key: key, count: count))]
        )
    }
}
