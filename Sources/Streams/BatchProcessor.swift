import Foundation
import Kafka
import Timestamps

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
    /// For each message, the position of the input it was produced for (`nil`: a changelog record):
    /// a delivery that fails for good dead-letters that input when the batch is reprocessed.
    public var origins: [RecordPosition?] = []
    /// The last offset processed per input partition (the transaction commits the next one).
    public var lastOffsets: [KafkaTopicPartition: Int64] = [:]
    public var processed = 0
    public var emitted = 0
    public var duplicates = 0
    public var deadLettered = 0
    public var stateChanges = 0
    /// Keys whose new state was refused for its size (the records that caused it were dead-lettered).
    public var oversizedStates: [String] = []
    /// Each changed key's value before the batch (`nil`: it had none), to roll the store back on abort.
    var undo: [ChangelogKey: StoredState<State>?] = [:]

    /// Puts the store back as it was before the batch.
    public func rollBack(_ store: inout StateStore<State>) {
        for (key, original) in undo { store[key.partition, key.key] = original }
    }

    /// The keys the batch wrote to the changelog: after an abort they are written again with the next
    /// commit, so that the aborted records (which the local broker keeps readable) never win a restore.
    public var changedKeys: Set<ChangelogKey> { Set(undo.keys) }

    mutating func append(_ message: KafkaProducerMessage, origin: RecordPosition?) {
        messages.append(message)
        origins.append(origin)
    }
}

/// Where a record was read: what a delivery failure is traced back to.
public struct RecordPosition: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// Runs a role's handler over a batch: the pure core of the worker, testable without Kafka.
public struct BatchProcessor<Role: StreamRole>: Sendable {
    public let role: Role
    public var dedupeWindow: DedupeWindow
    /// The largest record the runtime reads or writes (librdkafka's `message.max.bytes`); larger
    /// inputs and outputs are dead-lettered.
    public var maxMessageBytes: Int
    /// The largest encoded state value of one key; a record that would make one larger is dead-lettered.
    public var maxStateBytes: Int
    public var retryPolicy: RetryPolicy

    public init(
        role: Role,
        dedupeWindow: DedupeWindow = DedupeWindow(),
        maxMessageBytes: Int = 1_000_000,
        maxStateBytes: Int = 512 * 1024,
        retryPolicy: RetryPolicy = RetryPolicy()
    ) {
        self.role = role
        self.dedupeWindow = dedupeWindow
        self.maxMessageBytes = maxMessageBytes
        // A changelog record is the state plus its key and headers: it must fit in a message too.
        self.maxStateBytes = min(maxStateBytes, maxMessageBytes - min(16 * 1024, maxMessageBytes / 4))
        self.retryPolicy = retryPolicy
    }

    /// Processes `records` in order against `store`, which it updates. On any error thrown from here the
    /// caller must discard `store`'s changes (roll back is not possible) and reprocess from committed offsets.
    ///
    /// - Parameters:
    ///   - version: written on every changelog record of the batch.
    ///   - rewrite: keys to write to the changelog again whatever the batch does to them.
    ///   - poisoned: inputs whose outputs failed for good before: they are dead-lettered with the reason.
    ///   - deadline: records left when it passes are not handled (and not in `lastOffsets`), so that
    ///     one slow record cannot hold a batch past it.
    public func process(
        _ records: [InboundRecord],
        store: inout StateStore<Role.State>,
        version: ChangelogVersion = .initial,
        rewrite: Set<ChangelogKey> = [],
        poisoned: [RecordPosition: String] = [:],
        deadline: ContinuousClock.Instant? = nil,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> BatchOutcome<Role.State> {
        var batch = Batch(processor: self)
        for record in records {
            if let deadline, batch.outcome.processed > 0, ContinuousClock.now >= deadline { break }
            batch.outcome.processed += 1
            batch.outcome.lastOffsets[KafkaTopicPartition(topic: record.topic, partition: record.partition)] = record.offset
            try await batch.apply(record, store: &store, poisoned: poisoned, sleep: sleep)
        }
        let handled = records.prefix(batch.outcome.processed)
        try batch.writeBuckets(handled, version: version, store: &store)
        batch.tombstoneExpiredGhosts(handled, store: &store)
        if let lastRecord = handled.last {
            for changelogKey in rewrite where batch.changed[changelogKey] == nil {
                batch.changed[changelogKey] = lastRecord
                batch.changeOrder.append(changelogKey)
            }
        }
        for changelogKey in batch.changeOrder {
            // The batch's last record is the source of every change: its offset is committed with the
            // batch, so restore takes the change exactly when the batch committed.
            let source = handled.last { $0.topic == batch.changed[changelogKey]!.topic } ?? batch.changed[changelogKey]!
            let value = try batch.encoded[changelogKey] ?? store[changelogKey.partition, changelogKey.key].map(encode)
            batch.outcome.append(changelogRecord(changelogKey, value: value, source: source, version: version), origin: nil)
            store.setVersion(version, partition: changelogKey.partition, key: changelogKey.key)
        }
        batch.outcome.stateChanges = batch.changeOrder.count
        return batch.outcome
    }

    /// One batch in the making: its outcome, and the keys it changed (coalesced into one changelog
    /// record per key, holding its final state).
    private struct Batch {
        let processor: BatchProcessor
        var outcome = BatchOutcome<Role.State>()
        var changed: [ChangelogKey: InboundRecord] = [:]
        var changeOrder: [ChangelogKey] = []
        /// Each changed key's final value, encoded when its size was checked (`nil`: a tombstone).
        var encoded: [ChangelogKey: [UInt8]?] = [:]
        /// The ids the batch applied or dead-lettered, per partition, for its dedupe buckets.
        var remembered: [Int32: (ids: [String], times: [Int64], set: Set<String>)] = [:]
        /// The buckets the batch wrote, per partition: the capacity never pushes them out.
        var buckets: [Int32: Set<String>] = [:]

        var role: Role { processor.role }

        mutating func noteChange(_ changelogKey: ChangelogKey, record: InboundRecord, before: StoredState<Role.State>?) {
            if changed.updateValue(record, forKey: changelogKey) == nil {
                changeOrder.append(changelogKey)
                outcome.undo[changelogKey] = .some(before)
            }
        }

        mutating func deadLetter(_ record: InboundRecord, reason: String) {
            outcome.append(processor.deadLetter(record, reason: reason), origin: nil)
            outcome.deadLettered += 1
            // An answer too large to produce is dropped rather than dead-lettering the dead letter.
            let answers = (try? processor.envelopes(role.deadLetterOutputs(for: record, reason: reason), for: record)) ?? []
            for message in answers { outcome.append(message, origin: nil) }
            outcome.emitted += answers.count
        }

        mutating func apply(
            _ record: InboundRecord,
            store: inout StateStore<Role.State>,
            poisoned: [RecordPosition: String],
            sleep: (Duration) async throws -> Void
        ) async throws {
            let key = role.stateKey(for: record)
            let changelogKey = ChangelogKey(partition: record.partition, key: key)
            let before = store[record.partition, key]
            let recordID = record.id
            if role.deduplicatesInputs, store.hasApplied(recordID, partition: record.partition) || hasRemembered(recordID, record.partition) {
                outcome.duplicates += 1
                return
            }
            let position = RecordPosition(topic: record.topic, partition: record.partition, offset: record.offset)
            var failure = poisoned[position]
            var decision: (state: HandlerResult<Role.State>.StateChange, messages: [KafkaProducerMessage])?
            if failure == nil {
                do {
                    let input = try processor.decode(record)
                    if role.isPartitionWide(input) {
                        try applyPartitionWide(input, record, position, store: &store)
                        return
                    }
                    let result = try await processor.handle(input, record, state: before?.state, sleep: sleep)
                    decision = (result.state, try processor.envelopes(result.outputs, for: record))
                } catch let error as RecordFailure {
                    failure = error.reason
                }
            }
            var stored = before ?? StoredState(state: nil)
            if let decision {
                stored.apply(decision.state)
                // A key written by an earlier version carries its own ids: they move to the batch's bucket.
                let carriesIDs = role.deduplicatesInputs && !stored.applied.isEmpty
                if carriesIDs {
                    for (id, time) in zip(stored.applied, stored.appliedAt) { remember(id, at: time, partition: record.partition) }
                    stored.applied = []
                    stored.appliedAt = []
                }
                if decision.state != .unchanged || carriesIDs, let refusal = write(stored.keptOrTombstone, changelogKey, record, before, store: &store) {
                    failure = refusal
                }
                if failure == nil {
                    if role.deduplicatesInputs { remember(recordID, at: record.timestampMilliseconds, partition: record.partition) }
                    for message in decision.messages { outcome.append(message, origin: position) }
                    outcome.emitted += decision.messages.count
                    return
                }
            }
            deadLetter(record, reason: failure!)
            // Remembered like an applied record: a redelivered poison record is not dead-lettered twice.
            if role.deduplicatesInputs { remember(recordID, at: record.timestampMilliseconds, partition: record.partition) }
        }

        func hasRemembered(_ id: String, _ partition: Int32) -> Bool {
            remembered[partition]?.set.contains(DedupeBucket.remembered(id)) ?? false
        }

        mutating func remember(_ id: String, at time: Int64, partition: Int32) {
            let id = DedupeBucket.remembered(id)
            guard remembered[partition, default: ([], [], [])].set.insert(id).inserted else { return }
            remembered[partition]!.ids.append(id)
            remembered[partition]!.times.append(time)
        }

        /// The batch's applied ids, as one bucket per partition (more if it applied many records),
        /// written once and never changed: they go with a tombstone once the dedupe window passes.
        mutating func writeBuckets(_ handled: ArraySlice<InboundRecord>, version: ChangelogVersion, store: inout StateStore<Role.State>) throws {
            let perBucket = max(16, processor.maxStateBytes / DedupeBucket.bytesPerID)
            for (partition, batch) in remembered.sorted(by: { $0.key < $1.key }) {
                guard let source = handled.last(where: { $0.partition == partition }) else { continue }
                for (part, start) in stride(from: 0, to: batch.ids.count, by: perBucket).enumerated() {
                    let end = min(start + perBucket, batch.ids.count)
                    let changelogKey = ChangelogKey(partition: partition, key: DedupeBucket.key(version, part: part))
                    let before = store[partition, changelogKey.key]
                    var bucket = before ?? StoredState(state: nil)
                    bucket.applied += batch.ids[start..<end]
                    bucket.appliedAt += batch.times[start..<end]
                    noteChange(changelogKey, record: source, before: before)
                    encoded[changelogKey] = .some(try processor.encode(bucket))
                    store[partition, changelogKey.key] = bucket
                    store.noteGhost(partition: partition, key: changelogKey.key, at: bucket.newestAppliedAt)
                    buckets[partition, default: []].insert(changelogKey.key)
                }
            }
            remembered = [:]
        }

        /// Stores a key's new value once its encoding fits; returns why not otherwise (the store is
        /// left as it was).
        mutating func write(
            _ stored: StoredState<Role.State>?,
            _ changelogKey: ChangelogKey,
            _ record: InboundRecord,
            _ before: StoredState<Role.State>?,
            store: inout StateStore<Role.State>
        ) -> String? {
            let bytes: [UInt8]?
            do {
                bytes = try stored.map(processor.encode)
            } catch {
                return "the state of key \(changelogKey.key) in role \(role.name) cannot be encoded: \(error)"
            }
            if let bytes, bytes.count > processor.maxStateBytes {
                outcome.oversizedStates.append(changelogKey.key)
                return "the state of key \(changelogKey.key) in role \(role.name) would be \(bytes.count) bytes, over the limit of \(processor.maxStateBytes)"
            }
            noteChange(changelogKey, record: record, before: before)
            encoded[changelogKey] = .some(bytes)
            store[changelogKey.partition, changelogKey.key] = stored
            return nil
        }

        /// A tick-like input: the role sees every key of the partition and may change any of them.
        mutating func applyPartitionWide(_ input: Role.Input, _ record: InboundRecord, _ position: RecordPosition, store: inout StateStore<Role.State>) throws {
            let result: PartitionResult<Role.State>
            let messages: [KafkaProducerMessage]
            do {
                let states = PartitionStates(entries: store.entries(partition: record.partition))
                result = try BatchProcessor.failure(from: { try role.handlePartition(input, states: states, context: HandlerContext(record: record)) })
                messages = try processor.envelopes(result.outputs, for: record)
            } catch let error as RecordFailure {
                deadLetter(record, reason: error.reason)
                return
            }
            for (key, change) in result.changes.sorted(by: { $0.key < $1.key }) where change != .unchanged {
                let changelogKey = ChangelogKey(partition: record.partition, key: key)
                let before = store[record.partition, key]
                var stored = before ?? StoredState(state: nil)
                stored.apply(change)
                if let refusal = write(stored.keptOrTombstone, changelogKey, record, before, store: &store) {
                    // The input's effects on other keys stand; this key keeps its value and the reason is on record.
                    deadLetter(record, reason: refusal)
                }
            }
            for message in messages { outcome.append(message, origin: position) }
            outcome.emitted += messages.count
        }

        /// Buckets (and deleted keys of earlier versions) whose ids have outlived the dedupe window, or
        /// that the partition's capacity pushes out, go for good: a tombstone each.
        mutating func tombstoneExpiredGhosts(_ handled: ArraySlice<InboundRecord>, store: inout StateStore<Role.State>) {
            guard role.deduplicatesInputs else { return }
            var newest: [Int32: InboundRecord] = [:]
            for record in handled where (newest[record.partition]?.timestampMilliseconds ?? .min) <= record.timestampMilliseconds {
                newest[record.partition] = record
            }
            for (partition, record) in newest {
                let horizon = record.timestampMilliseconds - processor.dedupeWindow.milliseconds
                let capacity = processor.dedupeWindow.capacity
                for key in store.expireGhosts(partition: partition, before: horizon, capacity: capacity, keeping: buckets[partition] ?? []) {
                    let changelogKey = ChangelogKey(partition: partition, key: key)
                    let before = store[partition, key]
                    noteChange(changelogKey, record: record, before: before)
                    encoded[changelogKey] = .some(nil)
                    store[partition, key] = nil
                }
            }
        }
    }

    struct RecordFailure: Error {
        var reason: String
    }

    /// A handler's error as the reason its record is dead-lettered.
    static func failure<T>(from body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PoisonMessage {
            throw RecordFailure(reason: "rejected by handler: \(error.reason)")
        } catch {
            throw RecordFailure(reason: "handler failed: \(error)")
        }
    }

    func decode(_ record: InboundRecord) throws -> Role.Input {
        if let size = record.value?.count, size > maxMessageBytes {
            throw RecordFailure(reason: "oversized: \(size) bytes exceeds the limit of \(maxMessageBytes)")
        }
        do {
            return try role.decode(record)
        } catch {
            throw RecordFailure(reason: "undecodable: \(error)")
        }
    }

    /// The outputs with their headers, or why they cannot be produced.
    func envelopes(_ outputs: [OutboundMessage], for record: InboundRecord) throws -> [KafkaProducerMessage] {
        let messages = outputs.enumerated().map { envelope($1, for: record, index: $0) }
        if let big = messages.first(where: { $0.approximateSize > maxMessageBytes }) {
            throw RecordFailure(reason: "output to \(big.topic) of \(big.approximateSize) bytes exceeds the limit of \(maxMessageBytes)")
        }
        return messages
    }

    func encode(_ stored: StoredState<Role.State>) throws -> [UInt8] {
        Array(try JSONEncoder.souk.encode(stored))
    }

    private func handle(
        _ input: Role.Input,
        _ record: InboundRecord,
        state: Role.State?,
        sleep: (Duration) async throws -> Void
    ) async throws -> HandlerResult<Role.State> {
        var waits: ArraySlice<Duration>?
        while true {
            do {
                return try await role.handle(input, state: state, context: HandlerContext(record: record))
            } catch let error as TransientError {
                if waits == nil { waits = retryPolicy.backoffs[...] }
                guard let wait = waits?.popFirst() else {
                    throw RecordFailure(reason: "transient failure persisted past \(retryPolicy.bound): \(error.reason)")
                }
                // A cancelled sleep ends the batch (it is reprocessed), never dead-letters the record.
                try await sleep(wait)
            } catch let error as PoisonMessage {
                throw RecordFailure(reason: "rejected by handler: \(error.reason)")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw RecordFailure(reason: "handler failed: \(error)")
            }
        }
    }

    /// Adds the CloudEvents headers; the id is derived from the role, the input's id and the output's
    /// index, so a copy of the input that slips through (under another offset) yields the same ids.
    func envelope(_ output: OutboundMessage, for record: InboundRecord, index: Int) -> KafkaProducerMessage {
        let inputID = record.id
        var headers = [
            KafkaHeader(key: CloudEventHeader.id, string: MessageID.derived(role: role.name, inputID: inputID, index: index)),
            KafkaHeader(key: CloudEventHeader.type, string: output.type),
            KafkaHeader(key: CloudEventHeader.source, string: "souk/\(role.name)"),
            KafkaHeader(key: CloudEventHeader.specVersion, string: "1.0"),
            KafkaHeader(key: CloudEventHeader.time, string: record.timestamp.rfc3339),
            KafkaHeader(key: CloudEventHeader.contentType, string: "application/json"),
            KafkaHeader(key: CloudEventHeader.correlationID, string: output.correlationID ?? record.correlationID),
            KafkaHeader(key: CloudEventHeader.causationID, string: inputID),
        ]
        headers += output.headers
        return KafkaProducerMessage(topic: output.topic, key: output.key.map { Array($0.utf8) }, value: output.value, headers: headers)
    }

    func changelogRecord(_ key: ChangelogKey, value: [UInt8]?, source: InboundRecord, version: ChangelogVersion) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic,
            partition: key.partition,
            key: Array(key.key.utf8),
            value: value,
            headers: ChangelogSource(topic: source.topic, offset: source.offset, version: version).headers
        )
    }

    /// A record that only carries the partition's position, so that a transaction can commit offsets.
    func positionMarker(partition: Int32, source: InboundRecord, version: ChangelogVersion) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic,
            partition: partition,
            key: Array(ChangelogMarker.positionKey.utf8),
            value: [],
            headers: ChangelogSource(topic: source.topic, offset: source.offset, version: version).headers
        )
    }

    /// The record with the reason in its headers. A value that would make the dead letter too large
    /// to produce is left out (its size and coordinates stay): nothing is retried forever.
    func deadLetter(_ record: InboundRecord, reason: String) -> KafkaProducerMessage {
        var headers =
            record.headers + [
                KafkaHeader(key: DeadLetterHeader.reason, string: reason),
                KafkaHeader(key: DeadLetterHeader.role, string: role.name),
                KafkaHeader(key: DeadLetterHeader.sourceTopic, string: record.topic),
                KafkaHeader(key: DeadLetterHeader.sourcePartition, string: String(record.partition)),
                KafkaHeader(key: DeadLetterHeader.sourceOffset, string: String(record.offset)),
                KafkaHeader(key: DeadLetterHeader.time, string: record.timestamp.rfc3339),
            ]
        var letter = KafkaProducerMessage(topic: role.deadLetterTopic, key: record.key.map { Array($0.utf8) }, value: record.value, headers: headers)
        if letter.approximateSize > maxMessageBytes {
            headers.append(KafkaHeader(key: DeadLetterHeader.valueOmitted, string: String(record.value?.count ?? 0)))
            letter = KafkaProducerMessage(topic: role.deadLetterTopic, key: record.key.map { Array($0.utf8).prefix(1024).map { $0 } }, value: nil, headers: headers)
        }
        return letter
    }
}

extension KafkaProducerMessage {
    /// Bytes on the wire, near enough to compare with `message.max.bytes`.
    var approximateSize: Int {
        (key?.count ?? 0) + (value?.count ?? 0) + headers.reduce(64) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 8 }
    }
}

extension InboundRecord {
    var timestampMilliseconds: Int64 { Int64((timestamp.timeIntervalSince1970 * 1000).rounded()) }
}

/// A state key within its partition.
public struct ChangelogKey: Hashable, Sendable {
    public var partition: Int32
    public var key: String

    public init(partition: Int32, key: String) {
        self.partition = partition
        self.key = key
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
    /// Set when the record's value was too large to dead-letter: its size in bytes.
    public static let valueOmitted = "dlq_value_omitted_bytes"
}
