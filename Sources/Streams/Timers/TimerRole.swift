import Foundation

/// The timers of one partition of the timers topic, by id.
public struct TimerIndex: Codable, Sendable, Equatable {
    public var pending: [String: TimerSchedule] = [:]
    public init() {}

    /// Removes and returns the timers due at `now`, earliest first.
    mutating func due(at now: Date) -> [TimerSchedule] {
        let due = pending.values.filter { $0.fireAt <= now }.sorted { ($0.fireAt, $0.timerId) < ($1.fireAt, $1.timerId) }
        for timer in due { pending[timer.timerId] = nil }
        return due
    }
}

/// Durable timers without a scheduler: schedules and cancels are records on the timers topic, the
/// pending timers of each partition are the role's state (restored from its changelog like any other),
/// and tick records (see `Ticker`) fire what is due, in the same transaction that removes them.
///
/// A fired message is produced with the tick's position as its id, so a replay fires it with the same
/// id and its consumer drops the copy.
public struct TimerRole: StreamRole {
    public let name: String
    public let topic: String

    public enum Input: Sendable {
        case schedule(TimerSchedule)
        case cancel(TimerCancel)
        case tick
    }

    public init(name: String = "timers", topic: String = TimerClient.defaultTopic) {
        self.name = name
        self.topic = topic
    }

    public var inputTopics: [String] { [topic] }

    /// Schedules and cancels replace by timer id and ticks only fire what is due, so redelivered
    /// records change nothing; remembering their ids would rewrite the index on every tick.
    public var deduplicatesInputs: Bool { false }

    /// One index per partition: ticks reach partitions, not keys.
    public func stateKey(for record: InboundRecord) -> String { "partition-\(record.partition)" }

    public func decode(_ record: InboundRecord) throws -> Input {
        let bytes = Data(record.value ?? [])
        switch record.type {
        case TimerSchedule.type: return .schedule(try JSONDecoder.souk.decode(TimerSchedule.self, from: bytes))
        case TimerCancel.type: return .cancel(try JSONDecoder.souk.decode(TimerCancel.self, from: bytes))
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
            let due = index.due(at: context.now)
            guard !due.isEmpty else { return HandlerResult() }
            let outputs = due.map { timer in
                OutboundMessage(topic: timer.topic, key: timer.key, type: timer.type, value: Array(timer.payload.utf8), correlationID: timer.correlationId)
            }
            return HandlerResult(state: .set(index), outputs: outputs)
        }
        return HandlerResult(state: .set(index))
    }
}
