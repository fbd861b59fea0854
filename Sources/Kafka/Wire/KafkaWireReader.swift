/// Big-endian decoding of the Kafka protocol's fixed (non-flexible) response fields; every read checks
/// the bounds, so a short or garbled response is an error, never a crash.
struct KafkaWireReader {
    struct Truncated: Error {}

    private let bytes: [UInt8]
    private(set) var position: Int

    init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    mutating func int8() throws -> Int8 { Int8(bitPattern: try take(1).first!) }
    mutating func int16() throws -> Int16 { try integer() }
    mutating func int32() throws -> Int32 { try integer() }
    mutating func int64() throws -> Int64 { try integer() }

    mutating func string() throws -> String {
        let count = try int16()
        guard count >= 0 else { throw Truncated() }
        return String(decoding: try take(Int(count)), as: UTF8.self)
    }

    mutating func nullableString() throws -> String? {
        let count = try int16()
        guard count >= 0 else { return nil }
        return String(decoding: try take(Int(count)), as: UTF8.self)
    }

    mutating func nullableBytes() throws -> [UInt8]? {
        let count = try int32()
        guard count >= 0 else { return nil }
        return Array(try take(Int(count)))
    }

    mutating func array<Element>(_ read: (inout KafkaWireReader) throws -> Element) throws -> [Element] {
        let count = try int32()
        guard count > 0 else { return [] }
        guard Int(count) <= remaining else { throw Truncated() }
        return try (0..<count).map { _ in try read(&self) }
    }

    mutating func skip(_ count: Int) throws { _ = try take(count) }

    /// A zigzag varint (record fields of a v2 batch).
    mutating func varint() throws -> Int64 {
        var zigzag: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard shift < 64 else { throw Truncated() }
            let byte = try take(1).first!
            zigzag |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }

    /// A field of a v2 record: a varint length (-1: null), then the bytes.
    mutating func varintBytes() throws -> [UInt8]? {
        let count = try varint()
        guard count >= 0 else { return nil }
        return Array(try take(Int(count)))
    }

    /// The one partition of a response to a request that named one topic and one partition: each
    /// partition entry starts with its index and error code, and `read` takes the rest.
    mutating func onePartition<T>(of request: String, _ read: (inout KafkaWireReader) throws -> T) throws -> T {
        let results = try array { topic -> [(Int16, T)] in
            _ = try topic.string()
            return try topic.array { partition in
                _ = try partition.int32()
                let error = try partition.int16()
                return (error, try read(&partition))
            }
        }
        guard let (error, value) = results.first?.first else { throw KafkaWireClient.ErrorCode(code: -1, request: request) }
        guard error == 0 else { throw KafkaWireClient.ErrorCode(code: error, request: request) }
        return value
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw Truncated() }
        defer { position += count }
        return bytes[position..<position + count]
    }

    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        var value: T = 0
        for byte in try take(MemoryLayout<T>.size) { value = value << 8 | T(truncatingIfNeeded: byte) }
        return value
    }
}
