import Foundation
import JSONCodec
import Kafka
import Streams

/// Where a command's answers should also go, besides the owner's events topic: a saga keyed by order
/// id cannot read payment events keyed by payment id, so it names its own topic and key in the
/// command's headers and the owner copies each answer there (and keeps the address for answers that
/// come later, such as a reservation expiring or a parcel being delivered).
public struct ReplyAddress: Codable, Sendable, Equatable {
    public static let topicHeader = "souk_reply_topic"
    public static let keyHeader = "souk_reply_key"

    public var topic: String
    public var key: String

    public init(topic: String, key: String) {
        self.topic = topic
        self.key = key
    }

    public init?(_ record: InboundRecord) {
        guard let topic = record.headers.string(Self.topicHeader), let key = record.headers.string(Self.keyHeader) else { return nil }
        self.init(topic: topic, key: key)
    }

    public var headers: KafkaHeaders {
        [KafkaHeader(key: Self.topicHeader, string: topic), KafkaHeader(key: Self.keyHeader, string: key)]
    }

    /// A copy of `message` for this address.
    public func copy(of message: OutboundMessage) -> OutboundMessage {
        var copy = message
        copy.topic = topic
        copy.key = key
        copy.headers = []
        return copy
    }
}

extension OutboundMessage {
    /// This message, asking its receiver to copy its answers to `address`.
    public func replying(to address: ReplyAddress) -> OutboundMessage {
        var message = self
        message.headers += address.headers
        return message
    }
}

/// A role's own message on a repartition topic (a claim, a lookup, a reply): not part of the public
/// contract, so it is plain JSON without a schema.
public protocol InternalMessage: Codable, Sendable {
    static var type: String { get }
}

extension InternalMessage {
    public static func decode(_ record: InboundRecord) throws -> Self {
        try SoukJSON.decode(Self.self, from: record.value ?? [])
    }
}
