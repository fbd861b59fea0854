import Foundation
import Kafka

/// A consumed record with its CloudEvents metadata resolved.
public struct InboundRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: String?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var timestamp: Date

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestamp: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public init(_ message: KafkaConsumerMessage) {
        self.init(
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
            key: message.keyString,
            value: message.value,
            headers: message.headers,
            timestamp: Date(timeIntervalSince1970: Double(message.timestampMilliseconds ?? 0) / 1000)
        )
    }

    /// `ce_id`, or an id derived from the record's position when an upstream producer set none.
    public var id: String { headers.string(CloudEventHeader.id) ?? MessageID.position(topic: topic, partition: partition, offset: offset) }
    public var type: String? { headers.string(CloudEventHeader.type) }
    /// The saga/order this record belongs to; a record that names none starts its own chain.
    public var correlationID: String { headers.string(CloudEventHeader.correlationID) ?? id }
    public var causationID: String? { headers.string(CloudEventHeader.causationID) }
    public var stateKey: String { key ?? "" }
    /// The `souk_actor` header: who asked for this command, when an API wrote it.
    public var actor: String? { headers.string(SoukHeader.actor) }
    /// The customer an end user's command was sent by (`souk_actor: customer:<id>`), else `nil`.
    public var actingCustomer: String? {
        guard let actor, actor.hasPrefix("customer:") else { return nil }
        return String(actor.dropFirst("customer:".count))
    }
}

/// Header names of CloudEvents' Kafka binding (binary mode) plus Souk's chain ids.
public enum CloudEventHeader {
    public static let id = "ce_id"
    public static let type = "ce_type"
    public static let source = "ce_source"
    public static let specVersion = "ce_specversion"
    public static let time = "ce_time"
    public static let contentType = "content-type"
    public static let correlationID = "correlation_id"
    public static let causationID = "causation_id"
}

/// Souk's own headers beside CloudEvents'.
public enum SoukHeader {
    /// Who asked for a command: `customer:<id>` for an end user, `system:<name>` for an API key.
    /// Roles refuse a customer's command on an aggregate that customer does not own.
    public static let actor = "souk_actor"
    /// The HTTP request that produced a command (`X-Request-ID`), to follow it from the gateway on.
    public static let requestID = "souk_request_id"
}

/// Deterministic message ids.
public enum MessageID {
    /// The id of the `index`th message a role emits for the input at this position. Reprocessing the
    /// same input yields the same ids, which is what lets consumers drop the copies that an aborted
    /// transaction leaked. Topic names cannot contain ':', so the parts stay unambiguous.
    public static func derived(role: String, topic: String, partition: Int32, offset: Int64, index: Int) -> String {
        "\(role):\(topic):\(partition):\(offset):\(index)"
    }

    /// The id of a record that carries none.
    public static func position(topic: String, partition: Int32, offset: Int64) -> String {
        "\(topic):\(partition):\(offset)"
    }
}
