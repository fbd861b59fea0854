import Contracts
import Foundation
@testable import JSONCodec
import Testing

/// `SoukJSON.encode` must write exactly what `JSONEncoder` configured as `SoukJSON.encoder` writes:
/// changelogs, dedupe buckets and messages written before it came are read and compared as bytes.
@Suite struct SoukJSONEncodeTests {
    /// `streams`: whether the value is written as it streams by rather than by `JSONEncoder`.
    private func expectSameBytes<T: Encodable>(_ value: T, streams: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = String(decoding: try SoukJSON.encoder.encode(value), as: UTF8.self)
        #expect(String(decoding: try SoukJSON.encode(value), as: UTF8.self) == reference, sourceLocation: sourceLocation)
        let streamed = try SoukJSON.streamed(value)
        #expect((streamed != nil) == streams, sourceLocation: sourceLocation)
        if let streamed { #expect(String(decoding: streamed, as: UTF8.self) == reference, sourceLocation: sourceLocation) }
    }

    @Test func everyContractExample() throws {
        for message in TopicCatalog.messages {
            try expectSameBytes(Example(value: message.example))
        }
    }

    @Test func scalarsAsJSONEncoderWritesThem() throws {
        for value in [0, 1, -1, 42, Int.max, Int.min] { try expectSameBytes(value) }
        for value in [Int64.min, Int64.max] { try expectSameBytes(value) }
        for value in [UInt64.max, 0] { try expectSameBytes(value) }
        for value in [Int8.min, Int8.max] { try expectSameBytes([value]) }
        for value in [0.0, -0.0, 1.0, 1.5, 0.1, 1e20, 1e21, 1e-7, 123_456_789.125, -2.5e-300, Double.greatestFiniteMagnitude] {
            try expectSameBytes(value)
            try expectSameBytes(["x": value])
        }
        for value in [Float(1.25), Float(3.0), Float(0.1)] { try expectSameBytes([value]) }
        try expectSameBytes([true, false])
        try expectSameBytes([nil, 1, nil] as [Int?])
        try expectSameBytes(Decimal(string: "12.345")!)
        try expectSameBytes(["https://souk.dev/a/b?c=d": URL(string: "https://souk.dev/a/b?c=d")!])
        try expectSameBytes(Data([0, 1, 2, 250, 251, 252, 253]))
    }

    @Test func stringsWithEveryEscape() throws {
        var controls = ""
        for scalar in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        for text in ["", "plain", "quote \" backslash \\ slash / end", controls, "tab\tnew\nline\r", "đơn hàng — 注文 🛒", "\u{7F}\u{2028}"] {
            try expectSameBytes(text)
            try expectSameBytes([text: text])
        }
    }

    @Test func longStringsWithAnEscapeAtEveryPosition() throws {
        for special in ["\"", "\\", "\u{1}", "\u{1F}", "\n", "é", "🛒", " ", "~", "\u{7F}"] {
            for length in [7, 8, 9, 16, 17, 40] {
                for position in 0..<length {
                    var text = String(repeating: "x", count: length)
                    text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: position))
                    try expectSameBytes(text)
                    #expect(try SoukJSON.decode(String.self, from: SoukJSON.encode(text)) == text)
                }
            }
        }
    }

    @Test func datesWithTheirMilliseconds() throws {
        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_796_600_000.123), Date(timeIntervalSince1970: -62_000_000_000), Date.distantFuture]
        for date in dates {
            try expectSameBytes(date)
            try expectSameBytes(Stamped(at: date, next: date))
        }
    }

    @Test func keysInByteOrderWhateverTheDeclarationOrder() throws {
        try expectSameBytes(Shuffled(zeta: 1, alpha: "a", Mid: [1, 2], mid: nil, nested: Shuffled.Inner(b: true, a: [:])))
        var dictionary: [String: Int] = [:]
        for index in 0..<200 { dictionary["key-\(index * 7919 % 1000)"] = index }
        try expectSameBytes(dictionary)
        try expectSameBytes([3: "c", 1: "a", 20: "t"])
    }

    @Test func enumsWithAssociatedValuesAndEmptyValues() throws {
        try expectSameBytes([Choice.none, .one(5), .two(a: "x", b: [1.5]), .nested(Choice.one(1).boxed)])
        try expectSameBytes([Nothing()])
        try expectSameBytes(["x": Nothing()])
        #expect(throws: EncodingError.self) { try SoukJSON.encode(Nothing()) }
    }

    @Test func containersUsedOutOfOrderStillGiveJSONEncodersBytes() throws {
        try expectSameBytes(Interleaved(), streams: false)
        try expectSameBytes(TwiceTheSameKey(), streams: false)
        try expectSameBytes(WithSuper(), streams: false)
        try expectSameBytes(SameContainerAskedTwice())
    }

    @Test func randomDocuments() throws {
        var generator = SplitMix(seed: 2026_12_07)
        for _ in 0..<500 {
            try expectSameBytes(JSONValue.random(depth: 4, using: &generator))
        }
    }

    @Test func errorsAreJSONEncoders() throws {
        #expect(throws: EncodingError.self) { try SoukJSON.encode(["x": Double.nan]) }
        #expect(throws: Thrown.self) { try SoukJSON.encode(Throwing()) }
    }
}

private struct Stamped: Codable { var at: Date; var next: Date? }

private struct Shuffled: Codable {
    var zeta: Int
    var alpha: String
    var Mid: [Int]
    var mid: String?
    var nested: Inner
    struct Inner: Codable { var b: Bool; var a: [String: Int] }
}

private enum Choice: Codable {
    case none
    case one(Int)
    case two(a: String, b: [Double])
    case nested([Choice])
    var boxed: [Choice] { [self] }
}

private struct Nothing: Codable {
    func encode(to encoder: any Encoder) throws {}
}

/// Writes to a nested object after writing to its parent again: a streaming writer has closed it.
private struct Interleaved: Encodable {
    enum Keys: String, CodingKey { case outer, inner, later }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
        try nested.encode(1, forKey: .inner)
        try container.encode(2, forKey: .later)
        try nested.encode(3, forKey: .later)
    }
}

private struct TwiceTheSameKey: Encodable {
    enum Keys: String, CodingKey { case a, b }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .b)
        try container.encode(2, forKey: .a)
        try container.encode(3, forKey: .b)
    }
}

private struct WithSuper: Encodable {
    enum Keys: String, CodingKey { case own }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode("x", forKey: .own)
        try Shuffled.Inner(b: false, a: ["k": 1]).encode(to: container.superEncoder())
    }
}

private struct SameContainerAskedTwice: Encodable {
    enum Keys: String, CodingKey { case first, second }
    func encode(to encoder: any Encoder) throws {
        var first = encoder.container(keyedBy: Keys.self)
        try first.encode(1, forKey: .second)
        var second = encoder.container(keyedBy: Keys.self)
        try second.encode(2, forKey: .first)
    }
}

private struct Thrown: Error {}
private struct Throwing: Encodable {
    func encode(to encoder: any Encoder) throws { throw Thrown() }
}
