import Foundation

/// The `Encoder` handed to one value's `encode(to:)`: it writes straight into the document.
final class StreamingEncoder: Encoder {
    let output: JSONOutput
    private let parent: StreamingEncoder?
    private let key: (any CodingKey)?
    /// How many containers were open when the value began, and where its bytes begin.
    let depth: Int
    let start: Int
    /// The container this value opened, if any: asking twice gives the same one.
    private var opened: (frame: Int, object: Bool)?

    init(output: JSONOutput, parent: StreamingEncoder?, key: (any CodingKey)?) {
        self.output = output
        self.parent = parent
        self.key = key
        self.depth = output.depth
        self.start = output.bytes.count
    }

    var codingPath: [any CodingKey] { CodingPath.walk(from: self, parent: \.parent, key: \.key) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StreamingKeyedContainer(encoder: self, frame: open(object: true)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        StreamingUnkeyedContainer(encoder: self, frame: open(object: false))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamingSingleValueContainer(encoder: self)
    }

    private func open(object: Bool) -> Int {
        if let opened {
            if opened.object != object || !output.activate(opened.frame) { output.unsupported = true }
            return opened.frame
        }
        if output.bytes.count != start { output.unsupported = true }
        let frame = output.open(object: object)
        opened = (frame, object)
        return frame
    }

    /// Whether a single value may be written now: nothing was written for this value yet.
    func mayWriteSingleValue() -> Bool {
        guard opened == nil, output.bytes.count == start, output.depth == depth else {
            output.unsupported = true
            return false
        }
        return true
    }

    /// Writes `value` as the next thing in the document, on behalf of this encoder's value.
    func write<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        if T.self == String.self { return output.write(unsafeBitCast(value, to: String.self)) }
        if T.self == Int.self { return output.write(integer: unsafeBitCast(value, to: Int.self)) }
        if T.self == Bool.self { return output.write(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Date.self { return output.write(unsafeBitCast(value, to: Date.self)) }
        if T.self == Int64.self { return output.write(integer: unsafeBitCast(value, to: Int64.self)) }
        if T.self == Int32.self { return output.write(integer: unsafeBitCast(value, to: Int32.self)) }
        if T.self == UInt64.self { return output.write(integer: unsafeBitCast(value, to: UInt64.self)) }
        if T.self == Double.self {
            if !output.write(float: unsafeBitCast(value, to: Double.self)) { output.unsupported = true }
            return
        }
        // By type, not by a cast that every nested value would pay for; an optional one arrives
        // here unwrapped through its single-value container.
        if T.self == Data.self { return output.write(unsafeBitCast(value, to: Data.self).base64EncodedString()) }
        if T.self == URL.self { return output.write(unsafeBitCast(value, to: URL.self).absoluteString) }
        if T.self == Decimal.self { return output.bytes.append(contentsOf: unsafeBitCast(value, to: Decimal.self).description.utf8) }
        let child = StreamingEncoder(output: output, parent: self, key: key)
        try value.encode(to: child)
        if output.depth > child.depth {
            output.close(downTo: child.depth)
        } else if output.bytes.count == child.start {
            // `JSONEncoder` writes a value that encoded nothing as an empty object, and refuses one
            // at the top.
            if child.start == 0 { output.unsupported = true }
            output.bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
        }
    }
}

struct StreamingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: StreamingEncoder
    let frame: Int

    var codingPath: [any CodingKey] { encoder.codingPath }

    /// Starts the member `key`, or marks the document unsupported if this object was left.
    private func member(_ key: Key) -> Bool {
        guard encoder.output.activate(frame) else {
            encoder.output.unsupported = true
            return false
        }
        encoder.output.beginMember(key.stringValue)
        return true
    }

    mutating func encodeNil(forKey key: Key) throws {
        if member(key) { encoder.output.writeNull() }
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        if member(key) { encoder.output.write(value) }
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        if member(key) { encoder.output.write(value) }
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        if member(key), !encoder.output.write(float: value) { encoder.output.unsupported = true }
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        if member(key), !encoder.output.write(float: value) { encoder.output.unsupported = true }
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if member(key) { encoder.output.write(integer: value) } }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if member(key) { try encoder.write(value, key: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        _ = member(key)
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(encoder: encoder, frame: encoder.output.open(object: true)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        _ = member(key)
        return StreamingUnkeyedContainer(encoder: encoder, frame: encoder.output.open(object: false))
    }

    mutating func superEncoder() -> any Encoder {
        encoder.output.unsupported = true
        return StreamingEncoder(output: JSONOutput(), parent: nil, key: nil)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder()
    }
}

struct StreamingUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: StreamingEncoder
    let frame: Int

    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.output.count(of: frame) }

    private func element() -> Bool {
        guard encoder.output.activate(frame) else {
            encoder.output.unsupported = true
            return false
        }
        encoder.output.beginElement()
        return true
    }

    mutating func encodeNil() throws { if element() { encoder.output.writeNull() } }
    mutating func encode(_ value: Bool) throws { if element() { encoder.output.write(value) } }
    mutating func encode(_ value: String) throws { if element() { encoder.output.write(value) } }
    mutating func encode(_ value: Double) throws {
        if element(), !encoder.output.write(float: value) { encoder.output.unsupported = true }
    }
    mutating func encode(_ value: Float) throws {
        if element(), !encoder.output.write(float: value) { encoder.output.unsupported = true }
    }
    mutating func encode(_ value: Int) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int8) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int16) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int32) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int64) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt8) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt16) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt32) throws { if element() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt64) throws { if element() { encoder.output.write(integer: value) } }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        if element() { try encoder.write(value, key: IndexKey(intValue: index)) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        _ = element()
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(encoder: encoder, frame: encoder.output.open(object: true)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        _ = element()
        return StreamingUnkeyedContainer(encoder: encoder, frame: encoder.output.open(object: false))
    }

    mutating func superEncoder() -> any Encoder {
        encoder.output.unsupported = true
        return StreamingEncoder(output: JSONOutput(), parent: nil, key: nil)
    }
}

struct StreamingSingleValueContainer: SingleValueEncodingContainer {
    let encoder: StreamingEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { if encoder.mayWriteSingleValue() { encoder.output.writeNull() } }
    mutating func encode(_ value: Bool) throws { if encoder.mayWriteSingleValue() { encoder.output.write(value) } }
    mutating func encode(_ value: String) throws { if encoder.mayWriteSingleValue() { encoder.output.write(value) } }
    mutating func encode(_ value: Double) throws {
        if encoder.mayWriteSingleValue(), !encoder.output.write(float: value) { encoder.output.unsupported = true }
    }
    mutating func encode(_ value: Float) throws {
        if encoder.mayWriteSingleValue(), !encoder.output.write(float: value) { encoder.output.unsupported = true }
    }
    mutating func encode(_ value: Int) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int8) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int16) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int32) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: Int64) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt8) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt16) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt32) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }
    mutating func encode(_ value: UInt64) throws { if encoder.mayWriteSingleValue() { encoder.output.write(integer: value) } }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if encoder.mayWriteSingleValue() { try encoder.write(value, key: nil) }
    }
}
