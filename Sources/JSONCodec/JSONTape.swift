import Foundation

/// A JSON document checked and indexed in one pass: a token per value, each object and array
/// knowing where it ends, so that a decoder finds members without building dictionaries.
final class JSONTape {
    enum Kind: UInt8 {
        case null, `true`, `false`, integer, number, string, escapedString, object, array
    }

    struct Token {
        var kind: Kind
        /// Bytes of a scalar (a string without its quotes); for an object or array, its members
        /// or elements in `count` and the index of the token after its last one in `end`.
        var start: Int32
        var end: Int32
        var count: Int32
    }

    let bytes: [UInt8]
    private(set) var tokens: [Token] = []
    /// Set when a decoder met something only `JSONDecoder` decides, where it could not throw.
    var refused = false

    struct Invalid: Error {}

    /// Strict RFC 8259, as `JSONDecoder` reads it; `Invalid` for anything else.
    init(_ bytes: [UInt8]) throws {
        guard bytes.count < Int32.max else { throw Invalid() }
        self.bytes = bytes
        tokens.reserveCapacity(16)
        var position = 0
        try bytes.withUnsafeBufferPointer { buffer in
            try parseValue(buffer, &position, depth: 0)
            skipWhitespace(buffer, &position)
            guard position == buffer.count else { throw Invalid() }
        }
    }

    private func skipWhitespace(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int) {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func parseValue(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int, depth: Int) throws {
        skipWhitespace(buffer, &position)
        guard position < buffer.count, depth < 512 else { throw Invalid() }
        switch buffer[position] {
        case UInt8(ascii: "{"): try parseObject(buffer, &position, depth: depth)
        case UInt8(ascii: "["): try parseArray(buffer, &position, depth: depth)
        case UInt8(ascii: "\""): try parseString(buffer, &position)
        case UInt8(ascii: "t"): try parseLiteral(buffer, &position, "true", .true)
        case UInt8(ascii: "f"): try parseLiteral(buffer, &position, "false", .false)
        case UInt8(ascii: "n"): try parseLiteral(buffer, &position, "null", .null)
        default: try parseNumber(buffer, &position)
        }
    }

    private func parseLiteral(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int, _ literal: StaticString, _ kind: Kind) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= buffer.count, memcmp(buffer.baseAddress! + position, literal.utf8Start, count) == 0 else { throw Invalid() }
        tokens.append(Token(kind: kind, start: Int32(position), end: Int32(position + count), count: 0))
        position += count
    }

    private func parseNumber(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int) throws {
        let start = position
        func digits() -> Int {
            let first = position
            while position < buffer.count, buffer[position] >= UInt8(ascii: "0"), buffer[position] <= UInt8(ascii: "9") { position += 1 }
            return position - first
        }
        if position < buffer.count, buffer[position] == UInt8(ascii: "-") { position += 1 }
        let leading = position
        guard digits() > 0 else { throw Invalid() }
        if buffer[leading] == UInt8(ascii: "0"), position - leading > 1 { throw Invalid() }
        var kind = Kind.integer
        if position < buffer.count, buffer[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw Invalid() }
            kind = .number
        }
        if position < buffer.count, buffer[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < buffer.count, buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw Invalid() }
            kind = .number
        }
        tokens.append(Token(kind: kind, start: Int32(start), end: Int32(position), count: 0))
    }

    private func parseString(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int) throws {
        position += 1
        let start = position
        var escaped = false
        while true {
            if position + 8 <= buffer.count, !StringBytes.anySpecial(UnsafeRawPointer(buffer.baseAddress! + position).loadUnaligned(as: UInt64.self)) {
                position += 8
                continue
            }
            guard position < buffer.count else { throw Invalid() }
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20 else { throw Invalid() }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                position += 1
                guard position < buffer.count else { throw Invalid() }
            }
            position += 1
        }
        tokens.append(Token(kind: escaped ? .escapedString : .string, start: Int32(start), end: Int32(position), count: 0))
        position += 1
    }

    private func parseObject(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int, depth: Int) throws {
        try parseContainer(.object, closedBy: UInt8(ascii: "}"), buffer, &position) { position in
            skipWhitespace(buffer, &position)
            guard position < buffer.count, buffer[position] == UInt8(ascii: "\"") else { throw Invalid() }
            try parseString(buffer, &position)
            skipWhitespace(buffer, &position)
            guard position < buffer.count, buffer[position] == UInt8(ascii: ":") else { throw Invalid() }
            position += 1
            try parseValue(buffer, &position, depth: depth + 1)
        }
    }

    private func parseArray(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int, depth: Int) throws {
        try parseContainer(.array, closedBy: UInt8(ascii: "]"), buffer, &position) { position in
            try parseValue(buffer, &position, depth: depth + 1)
        }
    }

    /// An object or array: its token, then its members or elements, each read by `member`, separated
    /// by commas up to `closing`.
    private func parseContainer(
        _ kind: Kind,
        closedBy closing: UInt8,
        _ buffer: UnsafeBufferPointer<UInt8>,
        _ position: inout Int,
        member: (inout Int) throws -> Void
    ) throws {
        let index = tokens.count
        tokens.append(Token(kind: kind, start: Int32(position), end: 0, count: 0))
        position += 1
        var count: Int32 = 0
        skipWhitespace(buffer, &position)
        if position < buffer.count, buffer[position] == closing {
            position += 1
        } else {
            while true {
                try member(&position)
                count += 1
                skipWhitespace(buffer, &position)
                guard position < buffer.count else { throw Invalid() }
                if buffer[position] == UInt8(ascii: ",") {
                    position += 1
                } else if buffer[position] == closing {
                    position += 1
                    break
                } else {
                    throw Invalid()
                }
            }
        }
        tokens[index].count = count
        tokens[index].end = Int32(tokens.count)
    }

    // MARK: Reading tokens

    /// The index of the token after the value at `index`, with everything inside it.
    func next(after index: Int) -> Int {
        let token = tokens[index]
        return token.kind == .object || token.kind == .array ? Int(token.end) : index + 1
    }

    /// Whether the string at `index`, unescaped, is `key`; nil if it is not a valid string.
    func string(at index: Int, equals key: String) -> Bool? {
        let token = tokens[index]
        guard token.kind == .string else { return string(at: index).map { $0 == key } }
        var key = key
        return key.withUTF8 { utf8 in
            let count = Int(token.end - token.start)
            guard utf8.count == count else { return false }
            return count == 0 || bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(token.start), utf8.baseAddress!, count) == 0 }
        }
    }

    /// The string at `index`, unescaped and checked to be UTF-8.
    func string(at index: Int) -> String? {
        let token = tokens[index]
        switch token.kind {
        case .string: return String(validating: bytes[Int(token.start)..<Int(token.end)], as: UTF8.self)
        case .escapedString: return Self.unescape(bytes[Int(token.start)..<Int(token.end)]).flatMap { String(validating: $0, as: UTF8.self) }
        default: return nil
        }
    }

    private static func unescape(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = raw.startIndex
        func hex4() -> UInt32? {
            guard index + 4 <= raw.endIndex else { return nil }
            var value: UInt32 = 0
            for byte in raw[index..<(index + 4)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
        while index < raw.endIndex {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            let escape = raw[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 2 <= raw.endIndex, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u") else { return nil }
                    index += 2
                    guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                output.append(contentsOf: UTF8.encode(unicode)!)
            default: return nil
            }
        }
        return output
    }

    /// The integer at `index` when it is written as one and fits in `T`.
    func integer<T: FixedWidthInteger>(at index: Int, as type: T.Type) -> T? {
        let token = tokens[index]
        guard token.kind == .integer else { return nil }
        var position = Int(token.start)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative {
            guard T.isSigned else { return nil }
            position += 1
        }
        var value: T = 0
        while position < Int(token.end) {
            let digit = T(bytes[position] - UInt8(ascii: "0"))
            let (shifted, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (added, overflowPlus) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowTimes, !overflowPlus else { return nil }
            value = added
            position += 1
        }
        return value
    }

    /// The text of the number at `index`.
    func numberText(at index: Int) -> String? {
        let token = tokens[index]
        guard token.kind == .integer || token.kind == .number else { return nil }
        return String(decoding: bytes[Int(token.start)..<Int(token.end)], as: UTF8.self)
    }
}
