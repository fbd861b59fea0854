import Foundation
import Timestamps

/// The `Decoder` handed to one value's `init(from:)`, reading the value at `index` of the tape.
///
/// Whatever it cannot decide exactly as `JSONDecoder` would, it refuses with `NeedsJSONDecoder`, and
/// `SoukJSON.decode` lets `JSONDecoder` decode the whole document instead; so every error a caller
/// sees is `JSONDecoder`'s.
final class TapeDecoder: Decoder {
    let tape: JSONTape
    let index: Int
    private let parent: TapeDecoder?
    private let key: (any CodingKey)?

    init(tape: JSONTape, index: Int, parent: TapeDecoder?, key: (any CodingKey)?) {
        self.tape = tape
        self.index = index
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] { CodingPath.walk(from: self, parent: \.parent, key: \.key) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard tape.tokens[index].kind == .object else { throw NeedsJSONDecoder() }
        return KeyedDecodingContainer(TapeKeyedContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard tape.tokens[index].kind == .array else { throw NeedsJSONDecoder() }
        return TapeUnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        TapeSingleValueContainer(decoder: self)
    }

    /// The value at `at` as a `T`.
    func decode<T: Decodable>(_ type: T.Type, at token: Int, key: (any CodingKey)?) throws -> T {
        if T.self == String.self { return unsafeBitCast(try string(at: token), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, at: token), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(at: token), to: T.self) }
        if T.self == Date.self {
            guard let date = Date(rfc3339: try string(at: token)) else { throw NeedsJSONDecoder() }
            return unsafeBitCast(date, to: T.self)
        }
        if T.self == Int64.self { return unsafeBitCast(try integer(Int64.self, at: token), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try float(Double.self, at: token), to: T.self) }
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self { throw refuse() }
        return try T(from: TapeDecoder(tape: tape, index: token, parent: self, key: key))
    }

    func isNull(at token: Int) -> Bool { tape.tokens[token].kind == .null }

    /// Leaves the whole document to `JSONDecoder`, even if the caller catches the error: it would
    /// decide differently here (decode a value the tape decoder does not, or fail on the document).
    func refuse() -> NeedsJSONDecoder {
        tape.refused = true
        return NeedsJSONDecoder()
    }

    func string(at token: Int) throws -> String {
        guard let string = tape.string(at: token) else {
            let kind = tape.tokens[token].kind
            // Not UTF-8 or a bad escape: `JSONDecoder` rejects the document.
            throw kind == .string || kind == .escapedString ? refuse() : NeedsJSONDecoder()
        }
        return string
    }

    func bool(at token: Int) throws -> Bool {
        switch tape.tokens[token].kind {
        case .true: return true
        case .false: return false
        default: throw NeedsJSONDecoder()
        }
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type, at token: Int) throws -> T {
        if let value = tape.integer(at: token, as: T.self) { return value }
        // `JSONDecoder` also takes a number such as 34.0 or 1e3 that is an integer below 2^53 (and
        // beyond that reads the number as a `Decimal`, which only it does).
        guard let text = tape.numberText(at: token), let double = Double(text) else { throw NeedsJSONDecoder() }
        guard double.magnitude < 9_007_199_254_740_992 else { throw refuse() }
        guard let value = T(exactly: double) else { throw NeedsJSONDecoder() }
        return value
    }

    func float<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type, at token: Int) throws -> T {
        guard let text = tape.numberText(at: token) else { throw NeedsJSONDecoder() }
        guard let value = T(text), value.isFinite else { throw refuse() }
        return value
    }
}

/// Refused by the tape decoder: `JSONDecoder` decides (and words the error, if there is one).
struct NeedsJSONDecoder: Error {}

struct TapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TapeDecoder
    private let firstMember: Int
    private let end: Int
    /// The members of a large object by name (the first of a name, as `JSONDecoder` takes it),
    /// built on the first lookup; small objects are searched member by member.
    private let byName: NameIndex?

    final class NameIndex {
        var members: [String: Int]?
    }

    init(decoder: TapeDecoder) {
        self.decoder = decoder
        firstMember = decoder.index + 1
        end = Int(decoder.tape.tokens[decoder.index].end)
        byName = decoder.tape.tokens[decoder.index].count > 16 ? NameIndex() : nil
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The token index of each member's name, in document order.
    private var names: some Sequence<Int> {
        sequence(first: firstMember) { [tape = decoder.tape] in tape.next(after: $0 + 1) }.prefix { $0 < end }
    }

    var allKeys: [Key] {
        var keys: [Key] = []
        var seen = Set<String>()
        for name in names {
            guard let text = decoder.tape.string(at: name) else {
                _ = decoder.refuse()
                return []
            }
            if seen.insert(text).inserted, let key = Key(stringValue: text) { keys.append(key) }
        }
        return keys
    }

    /// The index of the value of `key`, the first if it is written twice, as `JSONDecoder` takes it.
    private func value(of key: Key) throws -> Int? {
        if let byName {
            if byName.members == nil { byName.members = try members() }
            return byName.members?[key.stringValue]
        }
        let wanted = key.stringValue
        for name in names {
            guard let equal = decoder.tape.string(at: name, equals: wanted) else { throw decoder.refuse() }
            if equal { return name + 1 }
        }
        return nil
    }

    private func members() throws -> [String: Int] {
        var members: [String: Int] = [:]
        members.reserveCapacity(Int(decoder.tape.tokens[decoder.index].count))
        for name in names {
            guard let text = decoder.tape.string(at: name) else { throw decoder.refuse() }
            if members[text] == nil { members[text] = name + 1 }
        }
        return members
    }

    private func required(_ key: Key) throws -> Int {
        guard let index = try value(of: key), !decoder.isNull(at: index) else { throw NeedsJSONDecoder() }
        return index
    }

    func contains(_ key: Key) -> Bool {
        do {
            return try value(of: key) != nil
        } catch {
            _ = decoder.refuse()
            return false
        }
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let index = try value(of: key) else { throw NeedsJSONDecoder() }
        return decoder.isNull(at: index)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.bool(at: required(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.string(at: required(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.float(type, at: required(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.float(type, at: required(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.integer(type, at: required(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.integer(type, at: required(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.integer(type, at: required(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.integer(type, at: required(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let index = try value(of: key) else { throw NeedsJSONDecoder() }
        // A null is for the type to judge (an Optional takes it), as `JSONDecoder` lets it.
        return try decoder.decode(type, at: index, key: key)
    }

    /// The member `key` read by `read`, nil when it is missing or null.
    private func ifPresent<T>(_ key: Key, _ read: (Int) throws -> T) throws -> T? {
        guard let index = try value(of: key), !decoder.isNull(at: index) else { return nil }
        return try read(index)
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try ifPresent(key) { try decoder.string(at: $0) } }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try ifPresent(key) { try decoder.integer(type, at: $0) } }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try ifPresent(key) { try decoder.bool(at: $0) } }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try ifPresent(key) { try decoder.decode(type, at: $0, key: key) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        guard let index = try value(of: key) else { throw NeedsJSONDecoder() }
        return try TapeDecoder(tape: decoder.tape, index: index, parent: decoder, key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let index = try value(of: key) else { throw NeedsJSONDecoder() }
        return try TapeDecoder(tape: decoder.tape, index: index, parent: decoder, key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { throw decoder.refuse() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw decoder.refuse() }
}

struct TapeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: TapeDecoder
    private var position: Int
    private(set) var currentIndex = 0
    let count: Int?

    init(decoder: TapeDecoder) {
        self.decoder = decoder
        position = decoder.index + 1
        count = Int(decoder.tape.tokens[decoder.index].count)
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var isAtEnd: Bool { currentIndex >= count! }

    /// The next element's index, moving past it.
    private mutating func take(allowingNull: Bool = false) throws -> Int {
        guard !isAtEnd else { throw NeedsJSONDecoder() }
        let index = position
        guard allowingNull || !decoder.isNull(at: index) else { throw NeedsJSONDecoder() }
        position = decoder.tape.next(after: index)
        currentIndex += 1
        return index
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw NeedsJSONDecoder() }
        guard decoder.isNull(at: position) else { return false }
        _ = try take(allowingNull: true)
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool(at: take()) }
    mutating func decode(_ type: String.Type) throws -> String { try decoder.string(at: take()) }
    mutating func decode(_ type: Double.Type) throws -> Double { try decoder.float(type, at: take()) }
    mutating func decode(_ type: Float.Type) throws -> Float { try decoder.float(type, at: take()) }
    mutating func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type, at: take()) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type, at: take()) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let key = IndexKey(intValue: currentIndex)
        return try decoder.decode(type, at: take(allowingNull: true), key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let key = IndexKey(intValue: currentIndex)
        return try TapeDecoder(tape: decoder.tape, index: take(), parent: decoder, key: key).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let key = IndexKey(intValue: currentIndex)
        return try TapeDecoder(tape: decoder.tape, index: take(), parent: decoder, key: key).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { throw decoder.refuse() }
}

struct TapeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: TapeDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    private func nonNull() throws -> Int {
        guard !decoder.isNull(at: decoder.index) else { throw NeedsJSONDecoder() }
        return decoder.index
    }

    func decodeNil() -> Bool { decoder.isNull(at: decoder.index) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool(at: nonNull()) }
    func decode(_ type: String.Type) throws -> String { try decoder.string(at: nonNull()) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.float(type, at: nonNull()) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.float(type, at: nonNull()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type, at: nonNull()) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type, at: nonNull()) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decode(type, at: decoder.index, key: nil)
    }
}
