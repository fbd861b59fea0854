import Foundation
import Timestamps

/// The JSON of every Souk message, state and changelog record: RFC 3339 dates with milliseconds,
/// object keys in byte order, slashes unescaped. Times keep their milliseconds because state and
/// timers written and read back must decide the same (a deadline rounded down to the second would
/// fire a timer before the saga thinks it is due); sorted keys make equal values equal bytes.
///
/// `encode` writes the bytes as the value hands them over, several times faster than `JSONEncoder`,
/// which builds a tree of values and dictionaries first and sorts them when it writes. The output is
/// the same, byte for byte, as `JSONEncoder` configured as below (`SoukJSONEncodeTests` compares them);
/// where a value's `encode(to:)` uses containers in a way a streaming writer cannot follow, or a value
/// cannot be written at all, `JSONEncoder` writes it, and its errors are the ones thrown.
public enum SoukJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        // An error thrown by the value's own code is thrown again by `JSONEncoder`, with its context.
        if let bytes = try? streamed(value) { return bytes }
        return Array(try encoder.encode(value))
    }

    /// The document as text, for a database column, a cache or an HTTP body.
    public static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// The document written as it streams by, or nil where only `JSONEncoder` can write it.
    static func streamed<T: Encodable>(_ value: T) throws -> [UInt8]? {
        let output = JSONOutput()
        try StreamingEncoder(output: output, parent: nil, key: nil).write(value, key: nil)
        output.close(downTo: 0)
        return output.unsupported ? nil : output.bytes
    }

    /// Reads the document into a tape and decodes from it, several times faster than `JSONDecoder`,
    /// which builds a dictionary for every object. Whatever the tape decoder cannot decide exactly
    /// as `JSONDecoder` (invalid JSON, a type mismatch, a missing key, a number only
    /// `JSONDecoder` converts, `Data`, `URL`, `Decimal`), `JSONDecoder` decodes
    /// again from the start: its value, or its error with its wording, is the answer.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let bytes = Array(bytes)
        if let value = tapeDecoded(type, from: bytes) { return value }
        return try decoder.decode(type, from: Data(bytes))
    }

    /// The value as the tape decoder reads it, or nil where it leaves the decision to `JSONDecoder`.
    static func tapeDecoded<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        guard let tape = try? JSONTape(bytes) else { return nil }
        let value = try? TapeDecoder(tape: tape, index: 0, parent: nil, key: nil).decode(type, at: 0, key: nil)
        return tape.refused ? nil : value
    }

    /// Configured as the documents are written; also what writes the rare value `encode` cannot.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.rfc3339)
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// RFC 3339 times, with or without fractional seconds.
    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let string = try decoder.singleValueContainer().decode(String.self)
            if let date = Date(rfc3339: string) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 date-time: \(string)"))
        }
        return decoder
    }()
}
