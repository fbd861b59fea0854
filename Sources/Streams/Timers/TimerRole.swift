import Foundation
import JSONCodec

/// Pending timers by id. Each timer is a state key of its own (`timer:<id>`), so no value grows with the
/// number of timers; a key written before that (`partition-<n>`, all of a partition's timers in one
/// value) is still read, fired from and shrunk.
public struct TimerIndex: Codable, Sendable, Equatable {
    public var pending: [String: TimerSchedule] = [:]
    public init(_ timers: [TimerSchedule] = []) {
        for timer in timers { pending[timer.timerId] = timer }
    }

    /// Removes and returns the timers due at `now`.
    mutating func due(at now: Date) -> [TimerSchedule] {
        let due = pending.values.filter { $0.fireAt <= now }
        for timer in due { pending[timer.timerId] = nil }
        return due
    }
}

/// Durable timers without a scheduler: schedules and cancels are records on the timers topic, each
/// pending timer is a key of the role's state (restored from its changelog like any other), and tick
/// records (see `Ticker`) reach a whole partition: they fire what is due, in the same transaction that
/// deletes those keys. A tick looks at every pending timer of its partition; with timers cancelled
/// once they are moot, that is the orders in flight, and a scan of them costs less than keeping an
/// ordered index in step with restores and rollbacks.
///
/// A fired message is produced with the tick's position as its id, so a replay fires it with the same
/// id and its consumer drops the copy.
public struct TimerRole: StreamRole {
    public let name: String
    /// Where ticks arrive, and requests of roles that share it.
    public let topic: String
    /// Further topics of requests, one per requesting role: a topic with one writer role.
    public let requestTopics: [String]

    public enum Input: Sendable {
        case schedule(TimerSchedule)
        case cancel(TimerCancel)
        case tick
    }

    public init(name: String = "timers", topic: String = TimerClient.defaultTopic, requestTopics: [String] = []) {
        self.name = name
        self.topic = topic
        self.requestTopics = requestTopics
    }

    public var inputTopics: [String] { [topic] + requestTopics }

    /// Schedules and cancels replace by timer id and ticks only fire what is due, so redelivered
    /// records change nothing; remembering their ids would rewrite the index on every tick.
    public var deduplicatesInputs: Bool { false }

    /// A key per timer, named by the header its schedule or cancel carries; ticks reach partitions.
    public func stateKey(for record: InboundRecord) -> String {
        if let timerID = record.headers.string(TimerClient.timerIDHeader) { return "timer:\(timerID)" }
        if record.type != TimerTick.type, let id = try? SoukJSON.decode(TimerCancel.self, from: record.value ?? []).timerId {
            return "timer:\(id)"  // a record written before the header existed
        }
        return "partition-\(record.partition)"
    }

    public func decode(_ record: InboundRecord) throws -> Input {
        let bytes = Data(record.value ?? [])
        switch record.type {
        case TimerSchedule.type: return .schedule(try SoukJSON.decode(TimerSchedule.self, from: bytes))
        case TimerCancel.type: return .cancel(try SoukJSON.decode(TimerCancel.self, from: bytes))
        case TimerTick.type: return .tick
        default: throw PoisonMessage("the timer role does not handle \(record.type ?? "a record without ce_type")")
        }
    }

    public func handle(_ input: Input, state: TimerIndex?, context: HandlerContext) throws -> HandlerResult<TimerIndex> {
        var index = state ?? TimerIndex()
        switch input {
        case .schedule(let timer):
            guard index.pending[timer.timerId] != timer else { return HandlerResult() }
            index.pending[timer.timerId] = timer
        case .cancel(let cancel):
            guard index.pending.removeValue(forKey: cancel.timerId) != nil else { return HandlerResult() }
        case .tick:
            return HandlerResult()  // partition-wide: see `handlePartition`
        }
        return HandlerResult(state: index.pending.isEmpty ? .delete : .set(index))
    }

    public func isPartitionWide(_ input: Input) -> Bool {
        if case .tick = input { true } else { false }
    }

    public func handlePartition(_ input: Input, states: PartitionStates<TimerIndex>, context: HandlerContext) throws -> PartitionResult<TimerIndex> {
        var result = PartitionResult<TimerIndex>()
        var fired: [TimerSchedule] = []
        for (key, index) in states {
            var remaining = index
            let due = remaining.due(at: context.now)
            guard !due.isEmpty else { continue }
            fired += due
            result.changes[key] = remaining.pending.isEmpty ? .delete : .set(remaining)
        }
        result.outputs = fired.sorted { ($0.fireAt, $0.timerId) < ($1.fireAt, $1.timerId) }.map { timer in
            OutboundMessage(topic: timer.topic, key: timer.key, type: timer.type, value: Array(timer.payload.utf8), correlationID: timer.correlationId)
        }
        return result
    }
}
