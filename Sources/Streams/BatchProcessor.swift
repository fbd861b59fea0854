import Foundation
import Kafka

/// How long a transient handler failure is retried before the record is dead-lettered.
public struct RetryPolicy: Sendable, Equatable {
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// The longest one record may hold up its batch (and so every partition in it).
    public var bound: Duration

    public init(initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(1), bound: Duration = .seconds(5)) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.bound = bound
    }

    /// The waits before each retry, doubling up to `maxBackoff`, adding up to at most `bound`.
    public var backoffs: [Duration] {
        var waits: [Duration] = []
        var next = initialBackoff
        var total = Duration.zero
        while next > .zero, total + next <= bound {
            waits.append(next)
            total += next
            next = min(next * 2, maxBackoff)
        }
        return waits
    }
}

/// Everything one batch produces, to be written in one transaction.
public struct BatchOutcome<State: Codable & Sendable & Equatable>: Sendable {
    /// Outputs, changelog records and dead letters, in the order they must be produced.
    public var messages: [KafkaProducerMessage] = []
    /// The last offset processed per input partition (the transaction commits the next one).
    public var lastOffsets: [KafkaTopicPartition: Int64] = [:]
    public var processed = 0
    public var emitted = 0
    public var duplicates = 0
    public var deadLettered = 0
    public var stateChanges = 0
    /// Each changed key's value before the batch (`nil`: it had none), to roll the store back on abort.
    var undo: [ChangelogKey: StoredState<State>?] = [:]

    /// Puts the store back as it was before the batch.
    public func rollBack(_ store: inout StateStore<State>) {
        for (key, original) in undo { store[key.partition, key.key] = original }
    }
}

/// Runs a role's handler over a batch: the pure core of the worker, testable without Kafka.
public struct BatchProcessor<Role: StreamRole>: Sendable {
    public let role: Role
    public var dedupeWindow: Int
    public var maxMessageBytes: Int
    public var retryPolicy: RetryPolicy

    public init(role: Role, dedupeWindow: Int = 256, maxMessageBytes: Int = 1_048_576, retryPolicy: RetryPolicy = RetryPolicy()) {
        self.role = role
        self.dedupeWindow = dedupeWindow
        self.maxMessageBytes = maxMessageBytes
        self.retryPolicy = retryPolicy
    }

    /// Processes `records` in order against `store`, which it updates. On any error thrown from here the
    /// caller must discard `store`'s changes (it works on a copy) and reprocess from committed offsets.
    public func process(
        _ records: [InboundRecord],
        store: inout StateStore<Role.State>,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> BatchOutcome<Role.State> {
        var outcome = BatchOutcome<Role.State>()
        // Changelog records are coalesced: one per key per batch, holding its final state.
        var changed: [ChangelogKey: InboundRecord] = [:]
        var changeOrder: [ChangelogKey] = []

        for record in records {
            outcome.processed += 1
            outcome.lastOffsets[KafkaTopicPartition(topic: record.topic, partition: record.partition)] = record.offset
            let key = role.stateKey(for: record)
            var stored = store[record.partition, key] ?? StoredState(state: nil)
            if role.deduplicatesInputs && stored.hasApplied(record.id) {
                outcome.duplicates += 1
                continue
            }
            let result: HandlerResult<Role.State>
            do {
                result = try await handle(record, state: stored.state, sleep: sleep)
            } catch let failure as RecordFailure {
                outcome.messages.append(deadLetter(record, reason: failure.reason))
                outcome.deadLettered += 1
                continue
            }
            for (index, output) in result.outputs.enumerated() {
                outcome.messages.append(envelope(output, for: record, index: index))
            }
            outcome.emitted += result.outputs.count
            switch result.state {
            case .unchanged: if !role.deduplicatesInputs { continue }
            case .set(let state): stored.state = state
            case .delete: stored.state = nil
            }
            if role.deduplicatesInputs { stored.remember(record.id, window: dedupeWindow) }
            let changelogKey = ChangelogKey(partition: record.partition, key: key)
            if changed.updateValue(record, forKey: changelogKey) == nil {
                changeOrder.append(changelogKey)
                outcome.undo[changelogKey] = .some(store[record.partition, key])
            }
            store[record.partition, key] = stored
        }
        for changelogKey in changeOrder {
            let source = changed[changelogKey]!
            outcome.messages.append(try changelogRecord(changelogKey, stored: store[changelogKey.partition, changelogKey.key]!, source: source))
        }
        outcome.stateChanges = changeOrder.count
        return outcome
    }

    private struct RecordFailure: Error {
        var reason: String
    }

    private func handle(
        _ record: InboundRecord,
        state: Role.State?,
        sleep: (Duration) async throws -> Void
    ) async throws -> HandlerResult<Role.State> {
        if let size = record.value?.count, size > maxMessageBytes {
            throw RecordFailure(reason: "oversized: \(size) bytes exceeds the limit of \(maxMessageBytes)")
        }
        let input: Role.Input
        do {
            input = try role.decode(record)
        } catch {
            throw RecordFailure(reason: "undecodable: \(error)")
        }
        var waits: ArraySlice<Duration>?
        while true {
            do {
                return try await role.handle(input, state: state, context: HandlerContext(record: record))
            } catch let error as TransientError {
                if waits == nil { waits = retryPolicy.backoffs[...] }
                guard let wait = waits?.popFirst() else {
                    throw RecordFailure(reason: "transient failure persisted past \(retryPolicy.bound): \(error.reason)")
                }
                try await sleep(wait)
            } catch let error as PoisonMessage {
                throw RecordFailure(reason: "rejected by handler: \(error.reason)")
            } catch {
                throw RecordFailure(reason: "handler failed: \(error)")
            }
        }
    }

    /// Adds the CloudEvents headers; the id is derived from the input position and the output's index.
    func envelope(_ output: OutboundMessage, for record: InboundRecord, index: Int) -> KafkaProducerMessage {
        var headers = [
            KafkaHeader(key: CloudEventHeader.id, string: MessageID.derived(role: role.name, topic: record.topic, partition: record.partition, offset: record.offset, index: index)),
            KafkaHeader(key: CloudEventHeader.type, string: output.type),
            KafkaHeader(key: CloudEventHeader.source, string: "souk/\(role.name)"),
            KafkaHeader(key: CloudEventHeader.specVersion, string: "1.0"),
            KafkaHeader(key: CloudEventHeader.time, string: record.timestamp.rfc3339),
            KafkaHeader(key: CloudEventHeader.contentType, string: "application/json"),
            KafkaHeader(key: CloudEventHeader.correlationID, string: output.correlationID ?? record.correlationID),
            KafkaHeader(key: CloudEventHeader.causationID, string: record.id),
        ]
        headers += output.headers
        return KafkaProducerMessage(topic: output.topic, key: output.key.map { Array($0.utf8) }, value: output.value, headers: headers)
    }

    func changelogRecord(_ key: ChangelogKey, stored: StoredState<Role.State>, source: InboundRecord) throws -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic,
            partition: key.partition,
            key: Array(key.key.utf8),
            value: Array(try JSONEncoder.souk.encode(stored)),
            headers: ChangelogSource(topic: source.topic, offset: source.offset).headers
        )
    }

    func deadLetter(_ record: InboundRecord, reason: String) -> KafkaProducerMessage {
        let headers =
            record.headers + [
                KafkaHeader(key: DeadLetterHeader.reason, string: reason),
                KafkaHeader(key: DeadLetterHeader.role, string: role.name),
                KafkaHeader(key: DeadLetterHeader.sourceTopic, string: record.topic),
                KafkaHeader(key: DeadLetterHeader.sourcePartition, string: String(record.partition)),
                KafkaHeader(key: DeadLetterHeader.sourceOffset, string: String(record.offset)),
                KafkaHeader(key: DeadLetterHeader.time, string: record.timestamp.rfc3339),
            ]
        return KafkaProducerMessage(topic: role.deadLetterTopic, key: record.key.map { Array($0.utf8) }, value: record.value, headers: headers)
    }
}

struct ChangelogKey: Hashable, Sendable {
    var partition: Int32
    var key: String
}

/// Which input record a changelog record came from. Restore ignores records whose source the group has
/// not committed: those belong to a transaction that was aborted or is still open.
public struct ChangelogSource: Equatable, Sendable {
    static let topicHeader = "souk_source_topic"
    static let offsetHeader = "souk_source_offset"

    public var topic: String
    public var offset: Int64

    public var headers: [KafkaHeader] {
        [KafkaHeader(key: Self.topicHeader, string: topic), KafkaHeader(key: Self.offsetHeader, string: String(offset))]
    }

    public init(topic: String, offset: Int64) {
        self.topic = topic
        self.offset = offset
    }

    public init?(headers: [KafkaHeader]) {
        guard let topic = headers.string(Self.topicHeader), let offset = headers.string(Self.offsetHeader).flatMap(Int64.init) else {
            return nil
        }
        self.init(topic: topic, offset: offset)
    }
}

/// Headers a dead letter carries besides the original ones.
public enum DeadLetterHeader {
    public static let reason = "dlq_reason"
    public static let role = "dlq_role"
    public static let sourceTopic = "dlq_source_topic"
    public static let sourcePartition = "dlq_source_partition"
    public static let sourceOffset = "dlq_source_offset"
    public static let time = "dlq_time"
}

extension Date {
    /// RFC 3339 in UTC with milliseconds.
    public var rfc3339: String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(self)
    }
}
