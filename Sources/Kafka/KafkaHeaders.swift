/// A record's headers, kept as one byte buffer: a consumed record's headers are copied out of
/// librdkafka once, a produced record's are written in place, and a lookup by name compares bytes.
/// Per header the buffer holds the name's length (2 bytes), the name, the value's length (4 bytes,
/// -1 for a null value) and the value. Kafka allows repeated names and null values, so headers are a
/// list, not a map; a lookup takes the last header of a name, as Kafka clients resolve repeats.
public struct KafkaHeaders: Sendable, Hashable {
    @usableFromInline var storage: [UInt8]
    public private(set) var count: Int

    public init() {
        storage = []
        count = 0
    }

    /// Room for headers of `bytes` bytes of names and values in all, `count` of them.
    public init(reservingBytes bytes: Int, count: Int) {
        self.init()
        storage.reserveCapacity(bytes + count * 6)
    }

    public init(_ headers: some Sequence<KafkaHeader>) {
        self.init()
        for header in headers { append(header) }
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ header: KafkaHeader) {
        if let value = header.value {
            value.withUnsafeBytes { append(name: header.key, value: $0) }
        } else {
            append(name: header.key, value: nil)
        }
    }

    public mutating func append(_ other: KafkaHeaders) {
        storage += other.storage
        count += other.count
    }

    public mutating func append(name: String, string: String) {
        var string = string
        string.withUTF8 { append(name: name, value: UnsafeRawBufferPointer($0)) }
    }

    /// Appends a header whose value is `value`'s bytes (`nil`: a null value).
    public mutating func append(name: String, value: UnsafeRawBufferPointer?) {
        var name = name
        name.withUTF8 { appendRaw(name: UnsafeRawBufferPointer($0), value: value) }
    }

    /// Appends a header from raw name and value bytes.
    public mutating func appendRaw(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
        let needed = Self.size(name: name.count, value: value?.count)
        if storage.capacity < storage.count + needed { storage.reserveCapacity(Swift.max(storage.capacity * 2, storage.count + needed)) }
        let start = storage.count
        storage.append(contentsOf: repeatElement(0, count: needed))
        storage.withUnsafeMutableBytes { bytes in
            var writer = Writer(bytes: UnsafeMutableRawBufferPointer(rebasing: bytes[start...]))
            writer.write(name: name, value: value)
        }
        count += 1
    }

    /// Headers written straight into a buffer of `capacity` bytes (at least the sum of `size(name:value:)`
    /// of every header `body` writes): one allocation, no copy.
    public init(capacity: Int, _ body: (inout Writer) throws -> Void) rethrows {
        var written = 0
        storage = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var writer = Writer(bytes: UnsafeMutableRawBufferPointer(buffer))
            defer {
                initialized = writer.position
                written = writer.count
            }
            try body(&writer)
        }
        count = written
    }

    /// The bytes one header takes in the buffer.
    public static func size(name: Int, value: Int?) -> Int { 6 + name + (value ?? 0) }

    /// Writes headers into a buffer sized for them (`KafkaHeaders(capacity:_:)`).
    public struct Writer {
        let bytes: UnsafeMutableRawBufferPointer
        var position = 0
        var count = 0

        public mutating func write(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
            precondition(name.count <= Int(UInt16.max), "a header name longer than 65,535 bytes")
            precondition(position + KafkaHeaders.size(name: name.count, value: value?.count) <= bytes.count, "headers overflow their buffer")
            bytes[position] = UInt8(truncatingIfNeeded: name.count)
            bytes[position + 1] = UInt8(truncatingIfNeeded: name.count >> 8)
            position += 2
            if name.count > 0 { UnsafeMutableRawBufferPointer(rebasing: bytes[position..<position + name.count]).copyMemory(from: name) }
            position += name.count
            bytes.storeBytes(of: Int32(value.map { Int32($0.count) } ?? -1).littleEndian, toByteOffset: position, as: Int32.self)
            position += 4
            if let value, value.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: bytes[position..<position + value.count]).copyMemory(from: value)
                position += value.count
            }
            count += 1
        }

        public mutating func write(name: String, value: UnsafeRawBufferPointer?) {
            var name = name
            name.withUTF8 { write(name: UnsafeRawBufferPointer($0), value: value) }
        }

        public mutating func write(name: String, string: String) {
            var string = string
            string.withUTF8 { write(name: name, value: UnsafeRawBufferPointer($0)) }
        }

        /// Copies every header of `headers`.
        public mutating func write(_ headers: KafkaHeaders) {
            headers.forEachRaw { name, value in write(name: name, value: value) }
        }
    }

    /// Calls `body` with each header's name and value bytes (`nil`: a null value), in order, without
    /// allocating.
    public func forEachRaw(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) throws -> Void) rethrows {
        try storage.withUnsafeBytes { bytes in
            var position = 0
            while position < bytes.count {
                let nameLength = Int(bytes[position]) | Int(bytes[position + 1]) << 8
                let name = UnsafeRawBufferPointer(rebasing: bytes[position + 2..<position + 2 + nameLength])
                position += 2 + nameLength
                let valueLength = Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self)))
                position += 4
                if valueLength < 0 {
                    try body(name, nil)
                } else {
                    try body(name, UnsafeRawBufferPointer(rebasing: bytes[position..<position + valueLength]))
                    position += valueLength
                }
            }
        }
    }

    /// Calls `body` with the value bytes of the last header named `name` (`nil` when there is none or
    /// its value is null).
    public func withValue<R>(_ name: String, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        var name = name
        return try name.withUTF8 { wanted in
            var found: UnsafeRawBufferPointer?
            forEachRaw { candidate, value in
                if candidate.count == wanted.count, candidate.elementsEqual(UnsafeRawBufferPointer(wanted)) { found = value }
            }
            return try body(found)
        }
    }

    /// The value of the last header named `name`, as text.
    public func string(_ name: String) -> String? {
        withValue(name) { value in value.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The last header named `name`.
    public func last(_ name: String) -> KafkaHeader? {
        var header: KafkaHeader?
        forEachRaw { candidate, value in
            if candidate.elementsEqual(name.utf8) { header = KafkaHeader(key: name, value: value.map { Array($0) }) }
        }
        return header
    }

    /// Whether a header named `name` is present.
    public func contains(_ name: String) -> Bool { last(name) != nil }

    /// Bytes of names and values, near enough to compare with `message.max.bytes`.
    public var approximateSize: Int { storage.count + count * 2 }

    public static func + (lhs: KafkaHeaders, rhs: KafkaHeaders) -> KafkaHeaders {
        var sum = lhs
        sum.append(rhs)
        return sum
    }

    public static func + (lhs: KafkaHeaders, rhs: [KafkaHeader]) -> KafkaHeaders { lhs + KafkaHeaders(rhs) }

    public static func += (lhs: inout KafkaHeaders, rhs: KafkaHeaders) { lhs.append(rhs) }

    public static func += (lhs: inout KafkaHeaders, rhs: [KafkaHeader]) { lhs.append(KafkaHeaders(rhs)) }
}

// MARK: - ExpressibleByArrayLiteral

extension KafkaHeaders: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: KafkaHeader...) {
        self.init(elements)
    }
}

// MARK: - Sequence

extension KafkaHeaders: Sequence {
    /// Each header as a `KafkaHeader` (names and values copied out): for inspection, not hot paths.
    public func makeIterator() -> IndexingIterator<[KafkaHeader]> {
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(count)
        forEachRaw { name, value in
            headers.append(KafkaHeader(key: String(decoding: name, as: UTF8.self), value: value.map { Array($0) }))
        }
        return headers.makeIterator()
    }

    public var underestimatedCount: Int { count }
}

// MARK: - CustomStringConvertible

extension KafkaHeaders: CustomStringConvertible {
    public var description: String { Array(self).description }
}
