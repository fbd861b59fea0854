import Contracts
import Foundation
import JSONCodec
import Streams

/// How a context's role writes: its events (and rejections) to its events topic, its own messages to
/// its repartition topics.
public struct ContextOutputs: Sendable {
    public let eventsTopic: String

    public init(eventsTopic: String) {
        self.eventsTopic = eventsTopic
    }

    public func event<Event: TopicMessage>(_ event: Event) throws -> OutboundMessage {
        OutboundMessage(topic: eventsTopic, key: event.key, type: Event.typeName, value: try event.encoded())
    }

    /// An event, and a copy for whoever asked to hear the answers (see `ReplyAddress`).
    public func event<Event: TopicMessage>(_ event: Event, copyTo address: ReplyAddress?) throws -> [OutboundMessage] {
        let message = try self.event(event)
        return [message] + (address.map { [$0.copy(of: message)] } ?? [])
    }

    public func rejection(commandId: String, commandType: String, aggregateId: String, reason: String, field: String?) throws -> OutboundMessage {
        try event(CommandRejected(commandId: commandId, commandType: commandType, aggregateId: aggregateId, reason: reason, field: field))
    }

    /// A result that changes nothing and answers the command with a rejection.
    public func rejected<State>(
        commandId: String,
        commandType: String,
        aggregateId: String,
        reason: String,
        field: String?
    ) -> HandlerResult<State> {
        // Encoding a CommandRejected cannot fail: it is strings only.
        HandlerResult(outputs: [try! rejection(commandId: commandId, commandType: commandType, aggregateId: aggregateId, reason: reason, field: field)])
    }

    /// A rejection, and a copy for whoever asked to hear the answers (see `ReplyAddress`).
    public func rejected<State>(
        commandId: String,
        commandType: String,
        aggregateId: String,
        reason: String,
        field: String?,
        copyTo address: ReplyAddress?
    ) -> HandlerResult<State> {
        // Encoding a CommandRejected cannot fail: it is strings only.
        let message = try! rejection(commandId: commandId, commandType: commandType, aggregateId: aggregateId, reason: reason, field: field)
        return HandlerResult(outputs: [message] + (address.map { [$0.copy(of: message)] } ?? []))
    }

    /// The rejection that answers a command sent to the dead-letter topic (nothing for a record of
    /// another topic, or one whose id no caller could know): its reason says where the record went.
    public func deadLetterRejection(of record: InboundRecord, commandsTopic: String, deadLetterTopic: String, reason: String) -> [OutboundMessage] {
        guard record.topic == commandsTopic, let commandId = record.headers.string(CloudEventHeader.id) else { return [] }
        var said = String.UnicodeScalarView()
        for scalar in reason.unicodeScalars.prefix(700) { said.append(scalar.properties.generalCategory == .control ? " " : scalar) }
        let rejection = CommandRejected(
            commandId: commandId,
            commandType: record.type.map { String($0.prefix(200)) } ?? "unknown",
            aggregateId: record.key ?? "unknown",
            reason: CommandRejected.deadLettered(to: deadLetterTopic, String(said))
        )
        guard let message = try? event(rejection), CommandRejected.schema.validate(json: message.value).isEmpty else { return [] }
        return [message]
    }

    /// A role-internal answer, sent where its request asked (the request's `ReplyAddress`).
    public func answer<Message: InternalMessage>(_ message: Message, to address: ReplyAddress) throws -> OutboundMessage {
        try internalMessage(address.topic, key: address.key, type: Message.type, message)
    }

    /// A role-internal message (a claim, a lookup) on one of its repartition topics.
    public func internalMessage(_ topic: String, key: String, type: String, _ message: some Encodable) throws -> OutboundMessage {
        OutboundMessage(topic: topic, key: key, type: type, value: try SoukJSON.encode(message))
    }
}
