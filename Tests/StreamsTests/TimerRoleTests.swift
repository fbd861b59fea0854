import Foundation
import Kafka
import Testing

@testable import Streams

/// Timers are a key each: a tick fires what is due and deletes those keys, so the role's state is as
/// large as the timers pending, never as the timers ever scheduled.
@Suite struct TimerRoleTests {
    let role = TimerRole()
    let processor = BatchProcessor(role: TimerRole())
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let client = TimerClient()

    func record(_ message: OutboundMessage, offset: Int64, at time: Date) -> InboundRecord {
        InboundRecord(
            topic: role.topic, partition: 0, offset: offset, key: message.key, value: message.value,
            headers: [KafkaHeader(key: CloudEventHeader.type, string: message.type)] + message.headers, timestamp: time
        )
    }

    func tick(_ offset: Int64, at time: Date) -> InboundRecord {
        InboundRecord(topic: role.topic, partition: 0, offset: offset, key: nil, value: Array("{}".utf8), headers: [KafkaHeader(key: CloudEventHeader.type, string: TimerTick.type)], timestamp: time)
    }

    func schedule(_ id: String, after seconds: TimeInterval) throws -> OutboundMessage {
        try client.schedule(id, at: start + seconds, key: "sku-1", deliver: ["id": id], type: "test.Fired.v1", to: "fired")
    }

    @Test func eachTimerIsItsOwnKeyAndATickFiresAndDeletesWhatIsDue() async throws {
        var store = StateStore<TimerIndex>()
        let scheduled = try await processor.process(
            [record(try schedule("a", after: 10), offset: 0, at: start), record(try schedule("b", after: 20), offset: 1, at: start),
             record(try schedule("c", after: 5), offset: 2, at: start)],
            store: &store
        )
        #expect(Set(store.entries(partition: 0).keys) == ["timer:a", "timer:b", "timer:c"])
        #expect(scheduled.messages.filter { $0.topic == role.changelogTopic }.count == 3)

        let fired = try await processor.process([tick(3, at: start + 15)], store: &store)
        #expect(fired.messages.filter { $0.topic == "fired" }.map { String(decoding: $0.value!, as: UTF8.self) } == [#"{"id":"c"}"#, #"{"id":"a"}"#])
        #expect(Set(store.entries(partition: 0).keys) == ["timer:b"])
        // Fired timers leave tombstones, so a restore does not bring them back.
        let changelog = fired.messages.filter { $0.topic == role.changelogTopic }
        #expect(Set(changelog.map { String(decoding: $0.key!, as: UTF8.self) }) == ["timer:a", "timer:c"])
        #expect(changelog.allSatisfy { $0.value == nil })

        // A tick with nothing due changes nothing: its round writes only the position marker every round writes.
        let again = try await processor.process([tick(4, at: start + 16)], store: &store)
        #expect(again.messages.map { String(decoding: $0.key!, as: UTF8.self) } == [ChangelogMarker.positionKey])
    }

    @Test func aCancelDeletesItsTimerAndLeavesTheOthers() async throws {
        var store = StateStore<TimerIndex>()
        _ = try await processor.process(
            [record(try schedule("a", after: 10), offset: 0, at: start), record(try schedule("b", after: 10), offset: 1, at: start),
             record(try client.cancel("a", key: "sku-1"), offset: 2, at: start)],
            store: &store
        )
        #expect(Set(store.entries(partition: 0).keys) == ["timer:b"])
        let fired = try await processor.process([tick(3, at: start + 11)], store: &store)
        #expect(fired.messages.filter { $0.topic == "fired" }.count == 1)
        #expect(store.entries(partition: 0).isEmpty)
    }

    @Test func aPartitionIndexWrittenBeforeTimersWereKeysStillFiresAndShrinks() async throws {
        var store = StateStore<TimerIndex>()
        let old = TimerIndex([
            TimerSchedule(timerId: "x", fireAt: start + 1, topic: "fired", key: "k", type: "test.Fired.v1", payload: "{}"),
            TimerSchedule(timerId: "y", fireAt: start + 100, topic: "fired", key: "k", type: "test.Fired.v1", payload: "{}"),
        ])
        store.install(partition: 0, ["partition-0": StoredState(state: old)])
        let fired = try await processor.process([tick(0, at: start + 2)], store: &store)
        #expect(fired.messages.filter { $0.topic == "fired" }.count == 1)
        #expect(store.state(partition: 0, key: "partition-0")?.pending.keys.sorted() == ["y"])
    }

    @Test func aScheduleWithoutTheHeaderIsKeyedByItsTimerID() throws {
        var message = try schedule("legacy", after: 1)
        message.headers = []
        #expect(role.stateKey(for: record(message, offset: 0, at: start)) == "timer:legacy")
        #expect(role.stateKey(for: tick(1, at: start)) == "partition-0")
    }
}
