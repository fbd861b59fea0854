import Contracts
import Foundation

/// A contract example as the value it wraps (an existential encodes through a wrapper).
struct Example: Encodable {
    let value: any Encodable
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// Repeatable random numbers, so that a failing random document is the same on the next run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension JSONValue {
    static func random(depth: Int, using generator: inout SplitMix) -> JSONValue {
        let pick = Int.random(in: 0..<(depth > 0 ? 8 : 6), using: &generator)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0..<63, using: &generator))
        case 3: return .number(Double.random(in: -1e6...1e6, using: &generator) * pow(10, Double(Int.random(in: -20...20, using: &generator))))
        case 4, 5: return .string(randomText(using: &generator))
        case 6: return .array((0..<Int.random(in: 0..<5, using: &generator)).map { _ in random(depth: depth - 1, using: &generator) })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0..<6, using: &generator) { object[randomText(using: &generator)] = random(depth: depth - 1, using: &generator) }
            return .object(object)
        }
    }

    private static func randomText(using generator: inout SplitMix) -> String {
        let alphabet = Array("aZ09 _-/\\\"\n\té€🛒\u{1}".unicodeScalars)
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0..<8, using: &generator) { text.append(alphabet.randomElement(using: &generator)!) }
        return String(text)
    }
}
