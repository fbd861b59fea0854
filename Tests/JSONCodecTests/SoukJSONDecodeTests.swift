import Contracts
import Foundation
@testable import JSONCodec
import Testing

/// `SoukJSON.decode` must give what `JSONDecoder` configured as `SoukJSON.decoder` gives, value or
/// error, and decode ordinary documents from the tape, not by falling back.
@Suite struct SoukJSONDecodeTests {
    /// Decodes `text` both ways and compares the values by their encoding, or the errors by their text.
    /// `fromTape`: whether the tape decoder must decide the document itself (nil: either). Returns
    /// whether it did.
    @discardableResult
    private func expectSameResult<T: Codable>(_ type: T.Type, _ text: String, fromTape: Bool? = true, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        let bytes = Array(text.utf8)
        let reference = Result { try SoukJSON.decoder.decode(type, from: Data(bytes)) }
        let decoded = Result { try SoukJSON.decode(type, from: bytes) }
        switch (reference, decoded) {
        case (.success(let expected), .success(let actual)):
            let actual = try encoded(actual), expected = try encoded(expected)
            #expect(actual == expected, sourceLocation: sourceLocation)
        case (.failure(let expected), .failure(let actual)):
            #expect("\(actual)" == "\(expected)", sourceLocation: sourceLocation)
        default:
            Issue.record("JSONDecoder: \(reference), SoukJSON: \(decoded) for \(text)", sourceLocation: sourceLocation)
        }
        let tape = SoukJSON.tapeDecoded(type, from: bytes)
        if let fromTape { #expect((tape != nil) == fromTape, "decoded from the tape: \(tape != nil) for \(text)", sourceLocation: sourceLocation) }
        if let tape {
            let actual = try encoded(tape), expected = try encoded(try reference.get())
            #expect(actual == expected, sourceLocation: sourceLocation)
        }
        return tape != nil
    }

    private func encoded(_ value: some Encodable) throws -> String { String(decoding: try SoukJSON.encode(value), as: UTF8.self) }

    @Test func everyContractExampleFromTheTape() throws {
        for message in TopicCatalog.messages {
            let text = String(decoding: try SoukJSON.encode(Example(value: message.example)), as: UTF8.self)
            try expectRoundTrip(message, text)
        }
    }

    private func expectRoundTrip(_ type: any Contract.Type, _ text: String) throws {
        func check<T: Contract>(_ type: T.Type) throws { try expectSameResult(type, text) }
        try check(type)
    }

    @Test func randomDocumentsFromTheTape() throws {
        // A float of 2^53 or more that an `Int64` could hold (JSONValue tries that first) is left to
        // JSONDecoder, which reads it as a `Decimal`; the rest is decided from the tape.
        var generator = SplitMix(seed: 7)
        var fromTape = 0
        for _ in 0..<500 {
            let text = String(decoding: try SoukJSON.encode(JSONValue.random(depth: 4, using: &generator)), as: UTF8.self)
            if try expectSameResult(JSONValue.self, text, fromTape: nil) { fromTape += 1 }
        }
        #expect(fromTape > 400)
    }

    @Test func scalarsNumbersAndEscapes() throws {
        try expectSameResult(Item.self, #"{"sku":"A","quantity":2,"unitPrice":100,"note":"x"}"#)
        try expectSameResult(Item.self, " \n{ \"note\" : \"x\" ,\t\"unitPrice\":-0, \"quantity\":34.0,\"sku\":\"A\"}\r\n ")
        try expectSameResult(Item.self, #"{"sku":"\"\\\/\b\f\n\r\t\u00e9\ud83d\uded2","quantity":1e3,"unitPrice":9223372036854775807,"note":""}"#)
        try expectSameResult(Item.self, #"{"sku":"A","quantity":2,"unitPrice":1,"note":"x","sku":"B"}"#)
        try expectSameResult([Double].self, "[0, -0.0, 1.5, 1e-7, 2.5E+300, 123456789012345678901234567890]")
        try expectSameResult([Int?].self, "[null, 1, -9223372036854775808]")
        try expectSameResult([String: Int].self, "{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}")
        try expectSameResult([Bool].self, "[true,false]")
        try expectSameResult(Stamp.self, #"{"at":"2026-12-07T23:59:59.123Z","until":"2026-12-07T23:59:59Z"}"#)
        try expectSameResult(Stamp.self, #"{"at":"2026-12-07T23:59:59.123Z","until":null}"#)
        try expectSameResult(String.self, #""top-level fragment""#)
        try expectSameResult(Item.self, #"{"s\u006bu":"A","quantity":2,"unitPrice":100,"note":"x"}"#)
    }

    @Test func whatOnlyJSONDecoderDecidesFallsBackToIt() throws {
        for text in ["", "{", "[1,]", "01", "1.", ".5", "-", "tru", "\"\u{1}\"", #"{"a" 1}"#, "[1] x", #""\x""#, #""\ud800""#, "[" + String(repeating: "[", count: 600)] {
            try expectSameResult([Int].self, text, fromTape: false)
        }
        // Type mismatches, missing and null members, numbers that do not fit: JSONDecoder's errors.
        try expectSameResult(Item.self, #"{"sku":1,"quantity":2,"unitPrice":100,"note":"x"}"#, fromTape: false)
        try expectSameResult(Item.self, #"{"quantity":2,"unitPrice":100,"note":"x"}"#, fromTape: false)
        try expectSameResult(Item.self, #"{"sku":null,"quantity":2,"unitPrice":100,"note":"x"}"#, fromTape: false)
        try expectSameResult(Item.self, #"{"sku":"A","quantity":2.5,"unitPrice":100,"note":"x"}"#, fromTape: false)
        try expectSameResult(Item.self, #"{"sku":"A","quantity":2,"unitPrice":9223372036854775808,"note":"x"}"#, fromTape: false)
        try expectSameResult(Item.self, #"{"sku":"A","quantity":"2","unitPrice":100,"note":"x"}"#, fromTape: false)
        try expectSameResult(Stamp.self, #"{"at":"yesterday"}"#, fromTape: false)
        try expectSameResult([UInt8].self, "[256]", fromTape: false)
        try expectSameResult([Double].self, "[1e400]", fromTape: false)
    }
}

private struct Item: Codable {
    var sku: String
    var quantity: Int
    var unitPrice: Int64
    var note: String
}

private struct Stamp: Codable {
    var at: Date
    var until: Date?
}
