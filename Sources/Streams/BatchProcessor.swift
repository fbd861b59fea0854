import Foundation
import JSONCodec
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

/// Everything one batch produced (its partitions' rounds, closed): what `process` returns.
public struct BatchOutcome: Sendable {
    /// Outputs, dead letters and changelog records, in the order they must be produced.
    public var messages: [KafkaProducerMessage] = []
    /// For each message, the position of the input it was produced for (`nil`: a changelog record).
    public var origins: [RecordPosition?] = []
    /// The last offset processed per input partition (the transaction commits the next one).
    public var lastOffsets: [KafkaTopicPartition: Int64] = [:]
    public var processed = 0
    public var emitted = 0
    public var duplicates = 0
    public var deadLettered = 0
    public var stateChanges = 0
    public var oversizedStates: [String] = []

    public init() {}

    mutating func add(_ round: inout PartitionRound) {
        let taken = round.takeMessages()
        messages += taken.messages
        origins += taken.origins
        lastOffsets.merge(round.lastOffsets) { max($0, $1) }
        processed += round.processed
        emitted += round.emitted
        duplicates += round.duplicates
        deadLettered += round.deadLettered
        stateChanges += round.stateChanges
        oversizedStates += round.oversizedStates
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
    /// The transactional id whose transactions write the changelog records (`nil`: none, at least once).
    public var writer: String?

    public init(
        role: Role,
        dedupeWindow: DedupeWindow = DedupeWindow(),
        maxMessageBytes: Int = 1_000_000,
        maxStateBytes: Int = 512 * 1024,
        retryPolicy: RetryPolicy = RetryPolicy(),
        writer: String? = nil
    ) {
        self.role = role
        self.writer = writer
        self.dedupeWindow = dedupeWindow
        self.maxMessageBytes = maxMessageBytes
        // A changelog record is the state plus its key and headers: it must fit in a message too.
        self.maxStateBytes = min(maxStateBytes, maxMessageBytes - min(16 * 1024, maxMessageBytes / 4))
        self.retryPolicy = retryPolicy
        roleName = Array(role.name.utf8)
        source = Array("souk/\(role.name)".utf8)
        // Names and fixed values of the eight CloudEvents headers (a time takes at most 32 bytes).
        let names = [
            CloudEventHeader.id, CloudEventHeader.type, CloudEventHeader.source, CloudEventHeader.specVersion, CloudEventHeader.time,
            CloudEventHeader.contentType, CloudEventHeader.correlationID, CloudEventHeader.causationID,
        ]
        envelopeBytes = names.reduce(0) { KafkaHeaders.size(name: $1.utf8.count, value: 0) + $0 } + source.count + "1.0".utf8.count + 32
            + "application/json".utf8.count
    }

    /// The role's name and `ce_source`, as bytes once.
    private let roleName: [UInt8]
    private let source: [UInt8]
    /// What an output's CloudEvents headers take besides its id, type, correlation and causation.
    private let envelopeBytes: Int

    /// Handles `records` (all of `round`'s partition) in order against `store`, which it updates, and
    /// adds their outputs and dead letters to `round`. Returns how many it handled: records left when
    /// `deadline` passes are not handled (nor in `round.lastOffsets`), so that one slow record cannot
    /// hold a batch past it. On an error thrown from here the caller must drop the partition's state
    /// and restore it from the changelog.
    ///
    /// - Parameter poisoned: inputs whose outputs failed for good before: they are dead-lettered.
    @discardableResult
    public func handle(
        _ records: some Collection<InboundRecord>,
        store: inout StateStore<Role.State>,
        round: inout PartitionRound,
        poisoned: [RecordPosition: String] = [:],
        deadline: ContinuousClock.Instant? = nil,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> Int {
        var handled = 0
        for record in records {
            if let deadline, handled > 0, ContinuousClock.now >= deadline { break }
            handled += 1
            round.noteHandled(record)
            try await apply(record, store: &store, round: &round, poisoned: poisoned, sleep: sleep)
        }
        return handled
    }

    /// Ends `round`: its dedupe bucket, the tombstones of ids past the window, and one changelog record
    /// per key it changed (and per key of `rewrite`), holding the key's final state, with `version`.
    /// They follow the round's outputs. A round that changed nothing writes a position marker: every
    /// transaction writes the changelog of each partition it commits, naming its writer.
    public func close(_ round: inout PartitionRound, version: ChangelogVersion, rewrite: Set<String> = [], store: inout StateStore<Role.State>) throws {
        let partition = round.partition
        try writeBuckets(&round, version: version, store: &store)
        tombstoneExpiredGhosts(&round, store: &store)
        if let lastTopic = round.lastTopic {
            for key in rewrite where round.changed[key] == nil { round.noteChange(key, topic: lastTopic) }
        }
        for key in round.changeOrder {
            let source = round.source(topic: round.changed[key]!)
            let value = try round.encoded[key] ?? store[partition, key].map(encode)
            round.appendChangelog(changelogRecord(ChangelogKey(partition: partition, key: key), value: value, source: source, version: version))
            store.setVersion(version, partition: partition, key: key)
        }
        round.stateChanges = round.changeOrder.count
        if !round.wroteChangelog, let lastTopic = round.lastTopic {
            round.appendChangelog(positionMarker(partition: partition, source: round.source(topic: lastTopic), version: version))
        }
    }

    /// Handles `records` and closes one round per partition: the whole of a transaction, for tests and
    /// tools. The worker uses `handle` and `close` itself, producing outputs as they come.
    public func process(
        _ records: [InboundRecord],
        store: inout StateStore<Role.State>,
        version: ChangelogVersion = .initial,
        rewrite: Set<ChangelogKey> = [],
        poisoned: [RecordPosition: String] = [:],
        deadline: ContinuousClock.Instant? = nil,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> BatchOutcome {
        var outcome = BatchOutcome()
        for (partition, batch) in Dictionary(grouping: records, by: \.partition).sorted(by: { $0.key < $1.key }) {
            var round = PartitionRound(partition: partition)
            try await handle(batch, store: &store, round: &round, poisoned: poisoned, deadline: deadline, sleep: sleep)
            let keys = Set(rewrite.filter { $0.partition == partition }.map(\.key))
            try close(&round, version: version, rewrite: keys, store: &store)
            outcome.add(&round)
        }
        return outcome
    }

    private func deadLetter(_ record: InboundRecord, reason: String, round: inout PartitionRound) {
        round.append(deadLetter(record, reason: reason), origin: nil)
        round.deadLettered += 1
        // An answer too large to produce is dropped rather than dead-lettering the dead letter.
        let answers = (try? envelopes(role.deadLetterOutputs(for: record, reason: reason), for: record)) ?? []
        for message in answers { round.append(message, origin: nil) }
        round.emitted += answers.count
    }

    private func apply(
        _ record: InboundRecord,
        store: inout StateStore<Role.State>,
        round: inout PartitionRound,
        poisoned: [RecordPosition: String],
        sleep: (Duration) async throws -> Void
    ) async throws {
        let key = role.stateKey(for: record)
        let before = store[record.partition, key]
        let recordID = role.deduplicatesInputs ? record.id : ""
        if role.deduplicatesInputs, store.hasApplied(recordID, partition: record.partition) || round.hasRemembered(recordID) {
            round.duplicates += 1
            return
        }
        let position = RecordPosition(topic: record.topic, partition: record.partition, offset: record.offset)
        var failure = poisoned.isEmpty ? nil : poisoned[position]
        var decision: (state: HandlerResult<Role.State>.StateChange, outputs: [OutboundMessage])?
        if failure == nil {
            do {
                let input = try decode(record)
                if role.isPartitionWide(input) {
                    try applyPartitionWide(input, record, position, store: &store, round: &round)
                    return
                }
                let result = try await handle(input, record, state: before?.state, sleep: sleep)
                try checkSizes(result.outputs, for: record)
                decision = (result.state, result.outputs)
            } catch let error as RecordFailure {
                failure = error.reason
            }
        }
        if let decision {
            var refusal: String?
            // A key written by an earlier version carries its own ids: they move to the round's bucket.
            let carriesIDs = role.deduplicatesInputs && !(before?.applied.isEmpty ?? true)
            if !decision.state.isUnchanged || carriesIDs {
                var stored = before ?? StoredState(state: nil)
                stored.apply(decision.state)
                if carriesIDs {
                    for (id, time) in zip(stored.applied, stored.appliedAt) { round.remember(id, at: time) }
                    stored.applied = []
                    stored.appliedAt = []
                }
                refusal = write(stored.keptOrTombstone, key, record, store: &store, round: &round)
            }
            if let refusal {
                failure = refusal
            } else {
                if role.deduplicatesInputs { round.remember(recordID, at: record.timestampMilliseconds) }
                for (index, output) in decision.outputs.enumerated() { round.append(envelope(output, for: record, index: index), origin: position) }
                round.emitted += decision.outputs.count
                return
            }
        }
        deadLetter(record, reason: failure!, round: &round)
        // Remembered like an applied record: a redelivered poison record is not dead-lettered twice.
        if role.deduplicatesInputs { round.remember(recordID, at: record.timestampMilliseconds) }
    }

    /// The round's applied ids, as one bucket (more if it applied many records), written once and
    /// never changed: they go with a tombstone once the dedupe window passes.
    private func writeBuckets(_ round: inout PartitionRound, version: ChangelogVersion, store: inout StateStore<Role.State>) throws {
        guard !round.rememberedIDs.isEmpty, let lastTopic = round.lastTopic else { return }
        let partition = round.partition
        let perBucket = max(16, maxStateBytes / DedupeBucket.bytesPerID)
        for (part, start) in stride(from: 0, to: round.rememberedIDs.count, by: perBucket).enumerated() {
            let end = min(start + perBucket, round.rememberedIDs.count)
            let key = DedupeBucket.key(version, part: part)
            var bucket = store[partition, key] ?? StoredState(state: nil)
            bucket.applied += round.rememberedIDs[start..<end]
            bucket.appliedAt += round.rememberedTimes[start..<end]
            round.noteChange(key, topic: lastTopic)
            round.encoded[key] = .some(try encode(bucket))
            store[partition, key] = bucket
            store.noteGhost(partition: partition, key: key, at: bucket.newestAppliedAt)
            round.buckets.insert(key)
        }
        round.rememberedIDs = []
        round.rememberedTimes = []
        round.rememberedSet = []
    }

    /// Stores a key's new value once its encoding fits; returns why not otherwise (the store is left
    /// as it was).
    private func write(
        _ stored: StoredState<Role.State>?,
        _ key: String,
        _ record: InboundRecord,
        store: inout StateStore<Role.State>,
        round: inout PartitionRound
    ) -> String? {
        let bytes: [UInt8]?
        do {
            bytes = try stored.map(encode)
        } catch {
            return "the state of key \(key) in role \(role.name) cannot be encoded: \(error)"
        }
        if let bytes, bytes.count > maxStateBytes {
            round.oversizedStates.append(key)
            return "the state of key \(key) in role \(role.name) would be \(bytes.count) bytes, over the limit of \(maxStateBytes)"
        }
        round.noteChange(key, topic: record.topic)
        round.encoded[key] = .some(bytes)
        store[record.partition, key] = stored
        return nil
    }

    /// A tick-like input: the role sees every key of the partition and may change any of them.
    private func applyPartitionWide(
        _ input: Role.Input,
        _ record: InboundRecord,
        _ position: RecordPosition,
        store: inout StateStore<Role.State>,
        round: inout PartitionRound
    ) throws {
        let result: PartitionResult<Role.State>
        let messages: [KafkaProducerMessage]
        do {
            let states = PartitionStates(entries: store.entries(partition: record.partition))
            result = try BatchProcessor.failure(from: { try role.handlePartition(input, states: states, context: HandlerContext(record: record)) })
            messages = try envelopes(result.outputs, for: record)
        } catch let error as RecordFailure {
            deadLetter(record, reason: error.reason, round: &round)
            return
        }
        for (key, change) in result.changes.sorted(by: { $0.key < $1.key }) where change != .unchanged {
            var stored = store[record.partition, key] ?? StoredState(state: nil)
            stored.apply(change)
            if let refusal = write(stored.keptOrTombstone, key, record, store: &store, round: &round) {
                // The input's effects on other keys stand; this key keeps its value and the reason is on record.
                deadLetter(record, reason: refusal, round: &round)
            }
        }
        for message in messages { round.append(message, origin: position) }
        round.emitted += messages.count
    }

    /// Buckets (and deleted keys of earlier versions) whose ids have outlived the dedupe window, or
    /// that the partition's capacity pushes out, go for good: a tombstone each.
    private func tombstoneExpiredGhosts(_ round: inout PartitionRound, store: inout StateStore<Role.State>) {
        guard role.deduplicatesInputs, let newest = round.newest else { return }
        let partition = round.partition
        let horizon = newest.time - dedupeWindow.milliseconds
        for key in store.expireGhosts(partition: partition, before: horizon, capacity: dedupeWindow.capacity, keeping: round.buckets) {
            round.noteChange(key, topic: newest.topic)
            round.encoded[key] = .some(nil)
            store[partition, key] = nil
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
        try checkSizes(outputs, for: record)
        return outputs.enumerated().map { envelope($1, for: record, index: $0) }
    }

    /// Why `outputs` cannot be produced, if one is too large: its envelope adds at most
    /// `envelopeBytes` to it.
    func checkSizes(_ outputs: [OutboundMessage], for record: InboundRecord) throws {
        for output in outputs {
            let size = 64 + (output.key?.utf8.count ?? 0) + output.value.count + output.headers.approximateSize + output.type.utf8.count
            guard size + envelopeBytes(for: record) > maxMessageBytes else { continue }
            let exact = envelope(output, for: record, index: 0).approximateSize
            if exact > maxMessageBytes {
                throw RecordFailure(reason: "output to \(output.topic) of \(exact) bytes exceeds the limit of \(maxMessageBytes)")
            }
        }
    }

    /// The most the CloudEvents headers of an output of `record` take, bar its type.
    private func envelopeBytes(for record: InboundRecord) -> Int {
        512 + roleName.count * 2 + 2 * record.headers.approximateSize
    }

    func encode(_ stored: StoredState<Role.State>) throws -> [UInt8] {
        try SoukJSON.encode(stored)
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
    /// The headers are written straight into one buffer from bytes at hand: no string per header.
    func envelope(_ output: OutboundMessage, for record: InboundRecord, index: Int) -> KafkaProducerMessage {
        let headers = record.withID { inputID in
            record.headers.withValue(CloudEventHeader.correlationID) { inherited in
                let idLength = roleName.count + 33
                let correlationLength = output.correlationID.map { $0.utf8.count } ?? (inherited ?? inputID).count
                let capacity =
                    envelopeBytes + idLength + output.type.utf8.count + correlationLength + inputID.count + output.headers.approximateSize
                return KafkaHeaders(capacity: capacity) { writer in
                    roleName.withUnsafeBytes { role in
                        withUnsafeTemporaryAllocation(byteCount: idLength, alignment: 1) { buffer in
                            let length = MessageID.write(role: role, inputID: inputID, index: index, into: buffer)
                            writer.write(name: CloudEventHeader.id, value: UnsafeRawBufferPointer(rebasing: buffer[..<length]))
                        }
                    }
                    writer.write(name: CloudEventHeader.type, string: output.type)
                    source.withUnsafeBytes { writer.write(name: CloudEventHeader.source, value: $0) }
                    writer.write(name: CloudEventHeader.specVersion, string: "1.0")
                    let written: Bool? = Date.withRFC3339(milliseconds: record.timestampMilliseconds) { time in
                        writer.write(name: CloudEventHeader.time, value: time)
                        return true
                    }
                    if written == nil { writer.write(name: CloudEventHeader.time, string: record.timestamp.rfc3339) }
                    writer.write(name: CloudEventHeader.contentType, string: "application/json")
                    if let correlation = output.correlationID {
                        writer.write(name: CloudEventHeader.correlationID, string: correlation)
                    } else {
                        writer.write(name: CloudEventHeader.correlationID, value: inherited ?? inputID)
                    }
                    writer.write(name: CloudEventHeader.causationID, value: inputID)
                    writer.write(output.headers)
                }
            }
        }
        return KafkaProducerMessage(topic: output.topic, key: output.key.map { Array($0.utf8) }, value: output.value, headers: headers)
    }

    func changelogRecord(_ key: ChangelogKey, value: [UInt8]?, source: (topic: String, offset: Int64), version: ChangelogVersion) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic,
            partition: key.partition,
            key: Array(key.key.utf8),
            value: value,
            headers: changelogHeaders(source: source, version: version)
        )
    }

    /// A record that only carries the partition's position, so that a transaction can commit offsets.
    func positionMarker(partition: Int32, source: (topic: String, offset: Int64), version: ChangelogVersion) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: role.changelogTopic,
            partition: partition,
            key: Array(ChangelogMarker.positionKey.utf8),
            value: [],
            headers: changelogHeaders(source: source, version: version)
        )
    }

    /// A changelog record's source and version, and the transactional id that writes it (`writer`).
    private func changelogHeaders(source: (topic: String, offset: Int64), version: ChangelogVersion) -> KafkaHeaders {
        var headers = ChangelogSource(topic: source.topic, offset: source.offset, version: version).headers
        if let writer { headers.append(name: ChangelogSource.writerHeader, string: writer) }
        return headers
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
        var letter = KafkaProducerMessage(topic: role.deadLetterTopic, key: record.keyBytes, value: record.value, headers: headers)
        if letter.approximateSize > maxMessageBytes {
            headers.append(KafkaHeader(key: DeadLetterHeader.valueOmitted, string: String(record.value?.count ?? 0)))
            letter = KafkaProducerMessage(topic: role.deadLetterTopic, key: record.keyBytes.map { Array($0.prefix(1024)) }, value: nil, headers: headers)
        }
        return letter
    }
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
