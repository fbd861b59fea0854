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
    /// The id of the `index`th message a role emits for the input with id `inputID`. Reprocessing the
    /// same input, or a copy of it at another offset, yields the same ids, which is what lets consumers
    /// drop the copies that an aborted transaction leaked. A 128-bit FNV-1a hash keeps the id short
    /// however long the chain of inputs before it.
    public static func derived(role: String, inputID: String, index: Int) -> String {
        var hash: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
        let prime: UInt128 = 0x0000_0000_0100_0000_0000_0000_0000_013b
        for byte in inputID.utf8 {
            hash ^= UInt128(byte)
            hash = hash &* prime
        }
        var index = UInt64(index)
        for _ in 0..<8 {
            hash ^= UInt128(index & 0xff)
            hash = hash &* prime
            index >>= 8
        }
        // Written out by hand: `String(_:radix:)` on a UInt128 is generic and took a tenth of the
        // runtime's CPU per record.
        let prefix = role.utf8.count + 1
        return String(unsafeUninitializedCapacity: prefix + 32) { buffer in
            _ = buffer.initialize(fromContentsOf: role.utf8)
            buffer[prefix - 1] = UInt8(ascii: ":")
            hex(UInt64(truncatingIfNeeded: hash >> 64), into: buffer, at: prefix)
            hex(UInt64(truncatingIfNeeded: hash), into: buffer, at: prefix + 16)
            return prefix + 32
        }
    }

    /// Sixteen lower-case hex digits, zero-padded.
    private static func hex(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var value = value
        for position in stride(from: start + 15, through: start, by: -1) {
            let digit = UInt8(truncatingIfNeeded: value & 0xf)
            buffer[position] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
            value >>= 4
        }
    }

    /// The id of a record that carries none.
    public static func position(topic: String, partition: Int32, offset: Int64) -> String {
        "\(topic):\(partition):\(offset)"
    }
}
