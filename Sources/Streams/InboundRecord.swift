import Foundation
import Kafka

/// A consumed record with its CloudEvents metadata at hand. Key, value and headers stay as the
/// consumer copied them out of librdkafka (bytes); the text views (`key`, `id`, …) are made on use.
public struct InboundRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var keyBytes: [UInt8]?
    public var value: [UInt8]?
    public var headers: KafkaHeaders
    /// Milliseconds since the Unix epoch (0 when the record has no timestamp).
    public var timestampMilliseconds: Int64

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        value: [UInt8]?,
        headers: KafkaHeaders = [],
        timestamp: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.keyBytes = key.map { Array($0.utf8) }
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = Int64((timestamp.timeIntervalSince1970 * 1000).rounded())
    }

    public init(_ message: KafkaConsumerMessage) {
        topic = message.topic
        partition = message.partition
        offset = message.offset
        keyBytes = message.key
        value = message.value
        headers = message.headers
        timestampMilliseconds = message.timestampMilliseconds ?? 0
    }

    public var key: String? {
        get { keyBytes.map { String(decoding: $0, as: UTF8.self) } }
        set { keyBytes = newValue.map { Array($0.utf8) } }
    }

    public var timestamp: Date {
        get { Date(timeIntervalSince1970: Double(timestampMilliseconds) / 1000) }
        set { timestampMilliseconds = Int64((newValue.timeIntervalSince1970 * 1000).rounded()) }
    }

    /// `ce_id`, or an id derived from the record's position when an upstream producer set none.
    public var id: String { withID { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the bytes of `id`, made without a string.
    public func withID<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let found = try headers.withValue(CloudEventHeader.id, { value in try value.map(body) }) { return found }
        return try MessageID.withPosition(topic: topic, partition: partition, offset: offset, body)
    }

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
    /// The trusted system an API key's (or an upstream producer's) command names itself as
    /// (`souk_actor: system:<name>`), else `nil`: only such a command may set prices.
    public var actingSystem: String? {
        guard let actor, actor.hasPrefix("system:") else { return nil }
        return String(actor.dropFirst("system:".count))
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
        var inputID = inputID
        return inputID.withUTF8 { derived(role: role, inputID: UnsafeRawBufferPointer($0), index: index) }
    }

    public static func derived(role: String, inputID: UnsafeRawBufferPointer, index: Int) -> String {
        var role = role
        return role.withUTF8 { role in
            String(unsafeUninitializedCapacity: role.count + 33) { buffer in
                write(role: UnsafeRawBufferPointer(role), inputID: inputID, index: index, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }

    /// Writes the derived id (`role` and 33 more bytes) at the start of `buffer`; returns its length.
    @discardableResult
    public static func write(role: UnsafeRawBufferPointer, inputID: UnsafeRawBufferPointer, index: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var hash: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
        let prime: UInt128 = 0x0000_0000_0100_0000_0000_0000_0000_013b
        for byte in inputID {
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
        let prefix = role.count + 1
        buffer.copyMemory(from: role)
        buffer[prefix - 1] = UInt8(ascii: ":")
        hex(UInt64(truncatingIfNeeded: hash >> 64), into: buffer, at: prefix)
        hex(UInt64(truncatingIfNeeded: hash), into: buffer, at: prefix + 16)
        return prefix + 32
    }

    /// Sixteen lower-case hex digits, zero-padded.
    private static func hex(_ value: UInt64, into buffer: UnsafeMutableRawBufferPointer, at start: Int) {
        var value = value
        for position in stride(from: start + 15, through: start, by: -1) {
            let digit = UInt8(truncatingIfNeeded: value & 0xf)
            buffer[position] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
            value >>= 4
        }
    }

    /// The id of a record that carries none.
    public static func position(topic: String, partition: Int32, offset: Int64) -> String {
        withPosition(topic: topic, partition: partition, offset: offset) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of `position(topic:partition:offset:)`, written on the stack.
    public static func withPosition<R>(topic: String, partition: Int32, offset: Int64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var topic = topic
        return try topic.withUTF8 { topic in
            try withUnsafeTemporaryAllocation(byteCount: topic.count + 42, alignment: 1) { buffer in
                buffer.copyMemory(from: UnsafeRawBufferPointer(topic))
                var end = topic.count
                buffer[end] = UInt8(ascii: ":")
                end = decimal(Int64(partition), into: buffer, at: end + 1)
                buffer[end] = UInt8(ascii: ":")
                end = decimal(offset, into: buffer, at: end + 1)
                return try body(UnsafeRawBufferPointer(rebasing: buffer[..<end]))
            }
        }
    }

    /// Writes `value` in decimal at `start`; returns where it ends.
    private static func decimal(_ value: Int64, into buffer: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var magnitude = value.magnitude
        var digits = 0
        repeat {
            digits += 1
            magnitude /= 10
        } while magnitude > 0
        var position = start
        if value < 0 {
            buffer[position] = UInt8(ascii: "-")
            position += 1
        }
        magnitude = value.magnitude
        for index in stride(from: position + digits - 1, through: position, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        }
        return position + digits
    }
}
