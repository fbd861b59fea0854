import Counting
import Foundation
import Kafka
import Testing

@testable import Streams

@Suite struct BatchProcessorTests {
    let role = CountingRole(inputTopic: "in", outputTopic: "out")

    func record(_ offset: Int64, key: String = "a", value: String = #"{"amount":1}"#, partition: Int32 = 0, id: String? = nil) -> InboundRecord {
        var headers = KafkaHeaders()
        if let id { headers.append(KafkaHeader(key: CloudEventHeader.id, string: id)) }
        return InboundRecord(topic: "in", partition: partition, offset: offset, key: key, value: Array(value.utf8), headers: headers)
    }

    func counts(_ outcome: BatchOutcome) throws -> [CountingRole.Counted] {
        try outcome.messages.filter { $0.topic == "out" }.map { try JSONDecoder().decode(CountingRole.Counted.self, from: Data($0.value!)) }
    }

    @Test func countsPerKeyAndCommitsTheLastOffsetPerPartition() async throws {
        var store = StateStore<Int>()
        let outcome = try await BatchProcessor(role: role).process(
            [record(0), record(1, key: "b"), record(2), record(7, partition: 1)],
            store: &store
        )
        #expect(try counts(outcome) == [.init(key: "a", count: 1), .init(key: "b", count: 1), .init(key: "a", count: 2), .init(key: "a", count: 1)])
        #expect(outcome.lastOffsets == [KafkaTopicPartition(topic: "in", partition: 0): 2, KafkaTopicPartition(topic: "in", partition: 1): 7])
        #expect(store.state(partition: 0, key: "a") == 2)
        #expect(store.state(partition: 1, key: "a") == 1)
    }

    @Test func changelogHasOneRecordPerChangedKeyWithItsSource() async throws {
        var store = StateStore<Int>()
        let outcome = try await BatchProcessor(role: role).process([record(0), record(1), record(2, key: "b")], store: &store)
        let changelog = outcome.messages.filter { $0.topic == role.changelogTopic }
        let bucketKey = DedupeBucket.key(.initial, part: 0)
        #expect(changelog.map { String(decoding: $0.key!, as: UTF8.self) } == ["a", "b", bucketKey])
        #expect(changelog.allSatisfy { $0.partition == 0 })
        let stored = try JSONDecoder().decode(StoredState<Int>.self, from: Data(changelog[0].value!))
        #expect(stored.state == 2)
        // The applied ids are not in the key's record, however often it changes: they are in the batch's bucket.
        #expect(stored.applied.isEmpty)
        let bucket = try JSONDecoder().decode(StoredState<Int>.self, from: Data(changelog[2].value!))
        #expect(bucket.state == nil)
        #expect(bucket.applied == ["in:0:0", "in:0:1", "in:0:2"])
        // The batch's last record is the source of every change: restore takes them once it is committed.
        #expect(ChangelogSource(headers: changelog[0].headers) == ChangelogSource(topic: "in", offset: 2))
        // Changelog records follow the outputs of the batch.
        #expect(outcome.messages.last?.topic == role.changelogTopic)
    }

    @Test func outputsCarryDeterministicCloudEventsHeaders() async throws {
        var first = StateStore<Int>()
        var second = StateStore<Int>()
        let input = record(41, id: "upstream-1")
        var withChain = input
        withChain.headers.append(KafkaHeader(key: CloudEventHeader.correlationID, string: "order-9"))
        let a = try await BatchProcessor(role: role).process([withChain], store: &first)
        let b = try await BatchProcessor(role: role).process([withChain], store: &second)
        let headers = a.messages[0].headers
        #expect(headers.string(CloudEventHeader.id) == MessageID.derived(role: "counter", inputID: "upstream-1", index: 0))
        #expect(headers.string(CloudEventHeader.id)?.count == "counter:".count + 32)
        #expect(headers.string(CloudEventHeader.type) == "souk.diagnostics.Counted.v1")
        #expect(headers.string(CloudEventHeader.source) == "souk/counter")
        #expect(headers.string(CloudEventHeader.specVersion) == "1.0")
        #expect(headers.string(CloudEventHeader.contentType) == "application/json")
        #expect(headers.string(CloudEventHeader.correlationID) == "order-9")
        #expect(headers.string(CloudEventHeader.causationID) == "upstream-1")
        #expect(a.messages == b.messages, "reprocessing the same input gives the same messages")
        // Without a correlation id the chain starts at the input.
        let c = try await BatchProcessor(role: role).process([record(3, id: "cmd-1")], store: &first)
        #expect(c.messages[0].headers.string(CloudEventHeader.correlationID) == "cmd-1")
    }

    @Test func duplicatesByIDAreDroppedAcrossBatches() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role)
        _ = try await processor.process([record(0, id: "x"), record(1, id: "y")], store: &store)
        // A leaked copy of "x" at another offset, and a new record.
        let outcome = try await processor.process([record(5, id: "x"), record(6, id: "z")], store: &store)
        #expect(outcome.duplicates == 1)
        #expect(try counts(outcome) == [.init(key: "a", count: 3)])
        #expect(outcome.lastOffsets[KafkaTopicPartition(topic: "in", partition: 0)] == 6)
    }

    @Test func dedupeWindowIsBoundedByCapacityButKeepsTheCurrentBatch() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role, dedupeWindow: DedupeWindow(capacity: 4))
        _ = try await processor.process((0..<3).map { record(Int64($0), id: "id\($0)") }, store: &store)
        // A batch of five is over the capacity on its own: its ids stay, the older bucket goes.
        let second = try await processor.process((3..<8).map { record(Int64($0), id: "id\($0)") }, store: &store, version: .initial.next)
        let tombstones = second.messages.filter { $0.topic == role.changelogTopic && $0.value == nil }
        #expect(tombstones.map { String(decoding: $0.key!, as: UTF8.self) } == [DedupeBucket.key(.initial, part: 0)])
        #expect(store.appliedCount(partition: 0) == 5)
        let again = try await processor.process([record(8, id: "id7"), record(9, id: "id0")], store: &store, version: .initial.next.next)
        #expect(again.duplicates == 1, "id7 is still remembered, id0 was pushed out")
    }

    @Test func dedupeWindowKeepsEveryIDWithinItsTime() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role, dedupeWindow: DedupeWindow(duration: .seconds(900)))
        // 300 records a second apart, in three batches: all within 15 minutes of the newest, so all are
        // kept (a count of 256 would have forgotten the first ones).
        for batch in 0..<3 {
            let records = (batch * 100..<(batch + 1) * 100).map { index in
                var copy = record(Int64(index), id: "id\(index)")
                copy.timestamp = Date(timeIntervalSince1970: Double(index))
                return copy
            }
            _ = try await processor.process(records, store: &store, version: ChangelogVersion(generation: 1, sequence: Int64(batch)))
        }
        #expect(store.appliedCount(partition: 0) == 300)
        var copy = record(300, id: "id0")
        copy.timestamp = Date(timeIntervalSince1970: 800)
        #expect(try await processor.process([copy], store: &store, version: ChangelogVersion(generation: 1, sequence: 3)).duplicates == 1)
        // One 25 minutes later: the buckets older than the window go, with a tombstone each.
        var late = record(301, id: "late")
        late.timestamp = Date(timeIntervalSince1970: 1_500)
        let outcome = try await processor.process([late], store: &store, version: ChangelogVersion(generation: 1, sequence: 4))
        #expect(outcome.messages.filter { $0.topic == role.changelogTopic && $0.value == nil }.count == 3)
        #expect(store.appliedCount(partition: 0) == 1)
    }

    @Test func idsThatAKeyOfAnEarlierVersionCarriesMoveToTheBucket() async throws {
        var store = StateStore<Int>()
        store.install(partition: 0, ["a": StoredState(state: 5, applied: ["old-1", "old-2"], appliedAt: [0, 0])])
        let processor = BatchProcessor(role: role)
        #expect(try await processor.process([record(0, id: "old-1")], store: &store).duplicates == 1)
        let outcome = try await processor.process([record(1, id: "new-1")], store: &store)
        let changelog = outcome.messages.filter { $0.topic == role.changelogTopic }
        let values = try changelog.map { try JSONDecoder().decode(StoredState<Int>.self, from: Data($0.value!)) }
        #expect(values.map(\.state) == [6, nil])
        #expect(values.map(\.applied) == [[], ["old-1", "old-2", "new-1"]])
        // Restored from those records, the old ids are still recognised.
        var restored = StateStore<Int>()
        restored.install(partition: 0, ["a": values[0], DedupeBucket.key(.initial, part: 0): values[1]])
        #expect(try await processor.process([record(2, id: "old-2")], store: &restored).duplicates == 1)
    }

    @Test func aLongIDIsRememberedByADigest() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role)
        let long = String(repeating: "x", count: 5_000)
        _ = try await processor.process([record(0, id: long)], store: &store)
        #expect(try await processor.process([record(1, id: long)], store: &store, version: .initial.next).duplicates == 1)
        #expect(try await processor.process([record(2, id: long + "y")], store: &store, version: .initial.next.next).duplicates == 0)
        #expect(DedupeBucket.remembered(long).utf8.count < 100)
    }

    @Test func aCopyAtAnotherOffsetGetsTheSameOutputIDs() async throws {
        var first = StateStore<Int>()
        var second = StateStore<Int>()
        let a = try await BatchProcessor(role: role).process([record(3, id: "cmd-7")], store: &first)
        let b = try await BatchProcessor(role: role).process([record(90, id: "cmd-7")], store: &second)
        #expect(a.messages[0].headers.string(CloudEventHeader.id) == b.messages[0].headers.string(CloudEventHeader.id))
    }

    @Test func aRedeliveredPoisonRecordIsDeadLetteredOnce() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role)
        let first = try await processor.process([record(0, value: "{", id: "bad-1")], store: &store)
        #expect(first.deadLettered == 1)
        let again = try await processor.process([record(4, value: "{", id: "bad-1")], store: &store)
        #expect(again.deadLettered == 0)
        #expect(again.duplicates == 1)
    }

    @Test func aRecordTooLargeToDeadLetterWholeLosesItsValueNotItsCoordinates() async throws {
        var store = StateStore<Int>()
        let big = String(repeating: "x", count: 2_000)
        let outcome = try await BatchProcessor(role: role, maxMessageBytes: 1_000).process([record(7, value: big)], store: &store)
        let dead = try #require(outcome.messages.first { $0.topic == role.deadLetterTopic })
        #expect(dead.value == nil)
        #expect(dead.headers.string(DeadLetterHeader.valueOmitted) == "2000")
        #expect(dead.headers.string(DeadLetterHeader.sourceOffset) == "7")
        #expect(dead.approximateSize <= 1_000)
    }

    @Test func poisonedInputsAreDeadLetteredWhenReprocessed() async throws {
        var store = StateStore<Int>()
        let position = RecordPosition(topic: "in", partition: 0, offset: 1)
        let outcome = try await BatchProcessor(role: role).process(
            [record(0), record(1), record(2)], store: &store, poisoned: [position: "output failed for good: MSG_SIZE_TOO_LARGE"]
        )
        #expect(outcome.deadLettered == 1)
        #expect(try counts(outcome).map(\.count) == [1, 2])
    }

    @Test func keysToRewriteAreWrittenWithTheBatchsVersion() async throws {
        var store = StateStore<Int>()
        _ = try await BatchProcessor(role: role).process([record(0, key: "old")], store: &store)
        let version = ChangelogVersion(generation: 3, sequence: 9)
        let outcome = try await BatchProcessor(role: role).process(
            [record(1, key: "a")], store: &store, version: version, rewrite: [ChangelogKey(partition: 0, key: "old")]
        )
        let changelog = outcome.messages.filter { $0.topic == role.changelogTopic }
        #expect(Set(changelog.map { String(decoding: $0.key!, as: UTF8.self) }) == ["a", "old", DedupeBucket.key(version, part: 0)])
        #expect(changelog.allSatisfy { ChangelogSource(headers: $0.headers)?.version == version })
    }

    @Test(arguments: [
        (#"{"amount": "#, "undecodable"),
        (#"{"count": 1}"#, "amount: required field is missing"),
        (#"{"amount": "one"}"#, "amount: expected Int"),
        (#"{"amount": -3}"#, "rejected by handler: amount must be positive"),
    ])
    func poisonGoesToTheDeadLetterTopicAndTheBatchGoesOn(value: String, reason: String) async throws {
        var store = StateStore<Int>()
        let outcome = try await BatchProcessor(role: role).process([record(0), record(1, value: value), record(2)], store: &store)
        #expect(outcome.deadLettered == 1)
        #expect(try counts(outcome).map(\.count) == [1, 2])
        let dead = try #require(outcome.messages.first { $0.topic == role.deadLetterTopic })
        #expect(dead.value == Array(value.utf8))
        #expect(dead.headers.string(DeadLetterHeader.reason)?.contains(reason) == true, "\(dead.headers.string(DeadLetterHeader.reason) ?? "")")
        #expect(dead.headers.string(DeadLetterHeader.sourceTopic) == "in")
        #expect(dead.headers.string(DeadLetterHeader.sourcePartition) == "0")
        #expect(dead.headers.string(DeadLetterHeader.sourceOffset) == "1")
        #expect(outcome.lastOffsets[KafkaTopicPartition(topic: "in", partition: 0)] == 2)
    }

    @Test func oversizedRecordsAreDeadLettered() async throws {
        var store = StateStore<Int>()
        let big = #"{"amount":1,"padding":""# + String(repeating: "x", count: 200) + #""}"#
        let outcome = try await BatchProcessor(role: role, maxMessageBytes: 100).process([record(0, value: big)], store: &store)
        #expect(outcome.deadLettered == 1)
        #expect(outcome.messages[0].headers.string(DeadLetterHeader.reason)?.hasPrefix("oversized") == true)
    }

    @Test func aRoundHandledInChunksIsClosedOnceWithTheLastSourceOfEachKey() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role, writer: "souk-counter-0-abc")
        var round = PartitionRound(partition: 0)
        try await processor.handle([record(0), record(1, key: "b")], store: &store, round: &round)
        let first = round.takeMessages()
        #expect(first.messages.map(\.topic) == ["out", "out"])
        try await processor.handle([record(2), record(3, value: "{")], store: &store, round: &round)
        let second = round.takeMessages()
        #expect(second.messages.map(\.topic) == ["out", role.deadLetterTopic])
        // Each output's origin is its input; a dead letter has none.
        #expect((first.origins + second.origins).map { $0?.offset } == [0, 1, 2, nil])
        try processor.close(&round, version: .initial, store: &store)
        let changelog = round.takeMessages()
        #expect(changelog.messages.map { String(decoding: $0.key!, as: UTF8.self) } == ["a", "b", DedupeBucket.key(.initial, part: 0)])
        // One record per key, with its final state, naming the round's last record as its source and its writer.
        #expect(changelog.messages.allSatisfy { ChangelogSource(headers: $0.headers) == ChangelogSource(topic: "in", offset: 3) })
        #expect(changelog.messages.allSatisfy { $0.headers.string(ChangelogSource.writerHeader) == "souk-counter-0-abc" })
        #expect(changelog.origins.allSatisfy { $0 == nil })
        #expect(try JSONDecoder().decode(StoredState<Int>.self, from: Data(changelog.messages[0].value!)).state == 2)
        #expect(round.lastOffsets == [KafkaTopicPartition(topic: "in", partition: 0): 3])
        #expect(round.processed == 4)
    }

    @Test func aRoundThatChangedNothingWritesOnlyAPositionMarkerNamingItsWriter() async throws {
        var store = StateStore<Int>()
        let processor = BatchProcessor(role: role, writer: "souk-counter-0-abc")
        _ = try await processor.process([record(0, id: "x")], store: &store)
        var round = PartitionRound(partition: 0)
        try await processor.handle([record(1, id: "x")], store: &store, round: &round)
        try processor.close(&round, version: .initial.next, store: &store)
        #expect(round.duplicates == 1)
        let written = round.takeMessages().messages
        #expect(written.map { String(decoding: $0.key!, as: UTF8.self) } == [ChangelogMarker.positionKey])
        #expect(ChangelogSource(headers: written[0].headers) == ChangelogSource(topic: "in", offset: 1, version: .initial.next))
        #expect(written[0].headers.string(ChangelogSource.writerHeader) == "souk-counter-0-abc")
        #expect(round.lastOffsets == [KafkaTopicPartition(topic: "in", partition: 0): 1])
    }
}

/// Fails transiently a given number of times, then counts like the counting role.
struct FlakyRole: StreamRole {
    final class Attempts: @unchecked Sendable {
        var remainingFailures: Int
        init(_ failures: Int) { remainingFailures = failures }
    }

    let name = "flaky"
    let inputTopics = ["in"]
    let attempts: Attempts

    func handle(_ input: CountingRole.Increment, state: Int?, context: HandlerContext) throws -> HandlerResult<Int> {
        if attempts.remainingFailures > 0 {
            attempts.remainingFailures -= 1
            throw TransientError("provider timed out")
        }
        return HandlerResult(state: .set((state ?? 0) + input.amount))
    }
}

@Suite struct RetryTests {
    func record() -> InboundRecord {
        InboundRecord(topic: "in", partition: 0, offset: 0, key: "k", value: Array(#"{"amount":1}"#.utf8))
    }

    @Test func backoffsDoubleUpToTheirCapAndStayWithinTheBound() {
        let policy = RetryPolicy(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(400), bound: .seconds(1))
        #expect(policy.backoffs == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
    }

    @Test func transientFailuresAreRetriedWithBackoff() async throws {
        let role = FlakyRole(attempts: .init(2))
        var slept: [Duration] = []
        var store = StateStore<Int>()
        let outcome = try await BatchProcessor(role: role).process([record()], store: &store) { slept.append($0) }
        #expect(slept == [.milliseconds(50), .milliseconds(100)])
        #expect(outcome.deadLettered == 0)
        #expect(store.state(partition: 0, key: "k") == 1)
    }

    @Test func cancellationNeverDeadLetters() async throws {
        var store = StateStore<Int>()
        let role = FlakyRole(attempts: .init(5))
        await #expect(throws: CancellationError.self) {
            _ = try await BatchProcessor(role: role).process([self.record()], store: &store) { _ in throw CancellationError() }
        }
    }

    @Test func persistentTransientFailuresAreDeadLetteredWithinTheBound() async throws {
        let role = FlakyRole(attempts: .init(1000))
        var slept: Duration = .zero
        var store = StateStore<Int>()
        let policy = RetryPolicy(initialBackoff: .milliseconds(50), maxBackoff: .seconds(1), bound: .seconds(2))
        let outcome = try await BatchProcessor(role: role, retryPolicy: policy).process([record()], store: &store) { slept += $0 }
        #expect(slept <= .seconds(2))
        #expect(outcome.deadLettered == 1)
        #expect(outcome.messages[0].headers.string(DeadLetterHeader.reason)?.contains("provider timed out") == true)
    }
}

/// State that outgrows its limit and deleted keys that outlive the dedupe window.
@Suite struct BoundedStateTests {
    /// Appends each record's value to its key's state; `{"delete":true}` deletes the key.
    struct AppendingRole: StreamRole {
        var name = "appender"
        var inputTopics: [String] { ["in"] }
        func decode(_ record: InboundRecord) throws -> String { String(decoding: record.value ?? [], as: UTF8.self) }
        func handle(_ input: String, state: String?, context: HandlerContext) throws -> HandlerResult<String> {
            if input == "delete" { return HandlerResult(state: .delete, outputs: []) }
            return HandlerResult(state: .set((state ?? "") + input), outputs: [OutboundMessage(topic: "out", key: context.record.key, type: "t", value: Array(input.utf8))])
        }
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func record(_ offset: Int64, _ value: String, key: String = "a", at seconds: TimeInterval = 0) -> InboundRecord {
        InboundRecord(topic: "in", partition: 0, offset: offset, key: key, value: Array(value.utf8), headers: [], timestamp: start + seconds)
    }

    @Test func aRecordThatWouldGrowAStatePastItsLimitIsDeadLetteredNamingRoleAndKey() async throws {
        let processor = BatchProcessor(role: AppendingRole(), maxMessageBytes: 100_000, maxStateBytes: 2_000)
        var store = StateStore<String>()
        let big = String(repeating: "x", count: 1_500)
        let outcome = try await processor.process([record(0, big), record(1, big), record(2, "y", key: "b")], store: &store)
        #expect(store.state(partition: 0, key: "a") == big)
        #expect(store.state(partition: 0, key: "b") == "y")
        #expect(outcome.oversizedStates == ["a"])
        let letters = outcome.messages.filter { $0.topic == AppendingRole().deadLetterTopic }
        #expect(letters.count == 1)
        let reason = try #require(letters.first?.headers.string(DeadLetterHeader.reason))
        #expect(reason.contains("key a in role appender") && reason.contains("over the limit of 2000"))
        // The refused record's output is not produced; the others are.
        #expect(outcome.messages.filter { $0.topic == "out" }.count == 2)
        // A redelivery is recognised: it is not dead-lettered twice.
        let again = try await processor.process([record(1, big)], store: &store)
        #expect(again.duplicates == 1)
    }

    @Test func aDeletedKeyGoesAtOnceWhileItsIdsStayForTheWindow() async throws {
        let processor = BatchProcessor(role: AppendingRole(), dedupeWindow: DedupeWindow(duration: .seconds(60)))
        var store = StateStore<String>()
        let deleted = try await processor.process([record(0, "v"), record(1, "delete")], store: &store)
        #expect(store[0, "a"] == nil)
        let tombstone = deleted.messages.first { $0.topic == AppendingRole().changelogTopic && $0.key == Array("a".utf8) }
        #expect(tombstone != nil && tombstone?.value == nil)
        // Within the window the create is still recognised.
        #expect(try await processor.process([record(0, "v", at: 30)], store: &store, version: .initial.next).duplicates == 1)

        let later = try await processor.process([record(2, "w", key: "b", at: 61)], store: &store, version: .initial.next.next)
        let bucketTombstone = later.messages.first {
            $0.topic == AppendingRole().changelogTopic && $0.key == Array(DedupeBucket.key(.initial, part: 0).utf8)
        }
        #expect(bucketTombstone != nil && bucketTombstone?.value == nil)
        #expect(try await processor.process([record(0, "v", at: 62)], store: &store, version: .initial.next.next.next).duplicates == 0)
    }

    @Test func aKeySetAgainAfterItsDeletionIsNoGhost() async throws {
        let processor = BatchProcessor(role: AppendingRole(), dedupeWindow: DedupeWindow(duration: .seconds(60)))
        var store = StateStore<String>()
        _ = try await processor.process([record(0, "v"), record(1, "delete"), record(2, "again", at: 10)], store: &store)
        _ = try await processor.process([record(3, "w", key: "b", at: 100)], store: &store)
        #expect(store.state(partition: 0, key: "a") == "again")
    }

    @Test func ghostsAreFoundAgainAfterARestore() async throws {
        let processor = BatchProcessor(role: AppendingRole(), dedupeWindow: DedupeWindow(duration: .seconds(60)))
        var store = StateStore<String>()
        let at = Int64(start.timeIntervalSince1970 * 1000)
        store.install(partition: 0, [
            "a": StoredState(state: nil, applied: ["x"], appliedAt: [at]),
            DedupeBucket.key(.initial, part: 0): StoredState(state: nil, applied: ["y"], appliedAt: [at]),
        ])
        let outcome = try await processor.process([record(5, "w", key: "b", at: 61)], store: &store, version: .initial.next)
        #expect(store[0, "a"] == nil)
        #expect(store[0, DedupeBucket.key(.initial, part: 0)] == nil)
        // b, its batch's bucket, and the two tombstones.
        #expect(outcome.stateChanges == 4)
    }
}
