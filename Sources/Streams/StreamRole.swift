import Foundation
import JSONCodec
import Kafka
import Timestamps

/// The decision logic of one worker role: no Kafka, no I/O.
///
/// Given the stored state for a record's key and the decoded record, `handle` returns the new state and
/// the messages to emit. The runtime (`StreamWorker`) does everything else: consuming, decoding,
/// deduplication, state restore, producing, offsets and the transaction around them.
public protocol StreamRole: Sendable {
    associatedtype Input: Sendable
    associatedtype State: Codable & Sendable & Equatable

    /// Names the consumer group, the transactional ids, the changelog and dead-letter topics.
    var name: String { get }
    /// Topics the role consumes; they must be co-partitioned (same partition count, same key mapping).
    var inputTopics: [String] { get }

    /// Turns a record into the role's input. Throwing `PoisonMessage` (or any error) sends the record
    /// to the dead-letter topic with the reason. The default decodes JSON when `Input` is `Decodable`.
    func decode(_ record: InboundRecord) throws -> Input

    /// May suspend for a role's own I/O (a payment provider); most handlers are synchronous and pure.
    func handle(_ input: Input, state: State?, context: HandlerContext) async throws -> HandlerResult<State>

    /// Which state a record reads and writes (default: its key). A role whose inputs are keyed by
    /// different things (a product id here, a SKU there) names them apart, e.g. `"sku:" + key`.
    /// Records with the same state key must be on the same partition number.
    func stateKey(for record: InboundRecord) -> String

    /// Whether the runtime remembers applied record ids per key to drop redelivered copies (default
    /// `true`). A stateless role whose outputs its consumers deduplicate may turn it off and skip the
    /// changelog write it costs.
    var deduplicatesInputs: Bool { get }

    /// Whether `input` concerns its whole partition rather than one key (a tick that fires whatever is
    /// due): then `handlePartition` decides it, with every key's state of the partition in view. Such
    /// inputs are not deduplicated; they must change nothing when delivered twice.
    func isPartitionWide(_ input: Input) -> Bool

    func handlePartition(_ input: Input, states: PartitionStates<State>, context: HandlerContext) throws -> PartitionResult<State>

    /// What a record sent to the dead-letter topic still owes whoever sent it, produced in the same
    /// transaction (default: nothing). A context answers a dead-lettered command with a rejection, so
    /// that no caller waits for its outcome forever.
    func deadLetterOutputs(for record: InboundRecord, reason: String) -> [OutboundMessage]
}

extension StreamRole {
    public var deduplicatesInputs: Bool { true }

    public func isPartitionWide(_ input: Input) -> Bool { false }

    public func handlePartition(_ input: Input, states: PartitionStates<State>, context: HandlerContext) throws -> PartitionResult<State> {
        throw PoisonMessage("the \(name) role handles no partition-wide input")
    }

    public func stateKey(for record: InboundRecord) -> String { record.stateKey }

    public func deadLetterOutputs(for record: InboundRecord, reason: String) -> [OutboundMessage] { [] }

    /// The topic every state change of the role is written to, co-partitioned with the inputs.
    public var changelogTopic: String { "souk.\(name).changelog.v1" }
    /// Where records that cannot be processed go, with the reason in their headers.
    public var deadLetterTopic: String { "souk.\(name).dlq.v1" }
}

extension StreamRole where Input: Decodable {
    public func decode(_ record: InboundRecord) throws -> Input {
        guard let value = record.value else { throw PoisonMessage("record has no value") }
        do {
            return try SoukJSON.decode(Input.self, from: value)
        } catch let error as DecodingError {
            throw PoisonMessage("does not match the schema of \(Input.self): \(error.soukDescription)")
        }
    }
}

/// What the handler decided for one record.
public struct HandlerResult<State: Sendable & Equatable>: Sendable {
    public enum StateChange: Sendable, Equatable {
        case unchanged
        case set(State)
        case delete

        var isUnchanged: Bool {
            if case .unchanged = self { return true }
            return false
        }
    }

    public var state: StateChange
    public var outputs: [OutboundMessage]

    public init(state: StateChange = .unchanged, outputs: [OutboundMessage] = []) {
        self.state = state
        self.outputs = outputs
    }
}

/// A message the handler wants produced. The runtime adds the CloudEvents headers.
public struct OutboundMessage: Sendable, Equatable {
    public var topic: String
    public var key: String?
    /// The CloudEvents `ce_type`, e.g. `souk.catalog.ProductCreated.v1`.
    public var type: String
    public var value: [UInt8]
    /// Overrides the correlation id inherited from the input (e.g. a saga names its order).
    public var correlationID: String?
    public var headers: KafkaHeaders

    public init(
        topic: String,
        key: String?,
        type: String,
        value: [UInt8],
        correlationID: String? = nil,
        headers: KafkaHeaders = []
    ) {
        self.topic = topic
        self.key = key
        self.type = type
        self.value = value
        self.correlationID = correlationID
        self.headers = headers
    }

    /// Encodes `payload` as JSON.
    public init<Payload: Encodable>(
        topic: String,
        key: String?,
        type: String,
        payload: Payload,
        correlationID: String? = nil
    ) throws {
        self.init(
            topic: topic,
            key: key,
            type: type,
            value: try SoukJSON.encode(payload),
            correlationID: correlationID
        )
    }
}

/// Where the record being handled came from, and its ids.
public struct HandlerContext: Sendable {
    public var record: InboundRecord
    /// The record's time: handlers use it instead of the wall clock, so reprocessing decides the same.
    public var now: Date { record.timestamp }
}

/// A record that can never be processed: it goes to the dead-letter topic and the worker goes on.
public struct PoisonMessage: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A failure that may pass (a provider timing out): the runtime retries with backoff, within a bound,
/// then dead-letters the record so that other partitions are not held up longer than that bound.
public struct TransientError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension DecodingError {
    /// "field.path: what is wrong", without Swift's debug noise.
    var soukDescription: String {
        func path(_ context: Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "(root)" : joined
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\(parent == "(root)" ? "" : parent + ".")\(key.stringValue): required field is missing"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}
