import Foundation
import JSONCodec
import Kafka

/// Asks the timer role to produce a message later: at `fireAt` (or at the first tick after it), the
/// message goes to `topic` with `key`. Scheduling the same `timerId` again replaces the earlier timer.
public struct TimerSchedule: Codable, Sendable, Equatable {
    public static let type = "souk.timers.Schedule.v1"

    public var timerId: String
    public var fireAt: Date
    public var topic: String
    public var key: String
    public var type: String
    /// The message's JSON, as text so that the timer index stays readable on its changelog.
    public var payload: String
    public var correlationId: String?

    public init(timerId: String, fireAt: Date, topic: String, key: String, type: String, payload: String, correlationId: String? = nil) {
        self.timerId = timerId
        self.fireAt = fireAt
        self.topic = topic
        self.key = key
        self.type = type
        self.payload = payload
        self.correlationId = correlationId
    }
}

public struct TimerCancel: Codable, Sendable, Equatable {
    public static let type = "souk.timers.Cancel.v1"
    public var timerId: String

    public init(timerId: String) {
        self.timerId = timerId
    }
}

/// Time passing on one partition of the timers topic; its record time is the time the role fires at.
public struct TimerTick: Codable, Sendable, Equatable {
    public static let type = "souk.timers.Tick.v1"
    public init() {}
}

/// Where a role's timers go, and how it asks for them.
public struct TimerClient: Sendable {
    /// The timers topic every role shares.
    public static let defaultTopic = "souk.timers.requests.v1"
    /// Names the timer a schedule or cancel is for, so the timer role keys its state without decoding.
    public static let timerIDHeader = "souk_timer_id"
    public var topic: String

    public init(topic: String = TimerClient.defaultTopic) {
        self.topic = topic
    }

    /// Schedules `message` for `fireAt`. `key` must be the key the cancel will carry (the aggregate's),
    /// so both reach the same partition of the timers topic.
    public func schedule(
        _ timerId: String,
        at fireAt: Date,
        key: String,
        deliver message: some Encodable,
        type: String,
        to target: String,
        correlationID: String? = nil
    ) throws -> OutboundMessage {
        let payload = try SoukJSON.text(message)
        let schedule = TimerSchedule(timerId: timerId, fireAt: fireAt, topic: target, key: key, type: type, payload: payload, correlationId: correlationID)
        var message = try OutboundMessage(topic: topic, key: key, type: TimerSchedule.type, payload: schedule)
        message.headers.append(KafkaHeader(key: Self.timerIDHeader, string: timerId))
        return message
    }

    public func cancel(_ timerId: String, key: String) throws -> OutboundMessage {
        var message = try OutboundMessage(topic: topic, key: key, type: TimerCancel.type, payload: TimerCancel(timerId: timerId))
        message.headers.append(KafkaHeader(key: Self.timerIDHeader, string: timerId))
        return message
    }
}
