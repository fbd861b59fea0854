import Foundation
import Testing
import Timestamps

@testable import Streams

/// The hand-written formats on the record path against their references.
@Suite struct RecordFormatsTests {
    /// Values from a reference FNV-1a 128 (Python, over the id's UTF-8 and the index's 8 little-endian
    /// bytes): ids already on the topics must not change under a new implementation.
    @Test func derivedIDsMatchTheReferenceHash() {
        #expect(MessageID.derived(role: "counter", inputID: "upstream-1", index: 0) == "counter:7d4f979612e0ee5763bc56ff7aedd642")
        #expect(
            MessageID.derived(role: "order-saga", inputID: "souk.order.commands.v1:3:12345", index: 7)
                == "order-saga:51b75a08de5f205d6703f362fe484df3"
        )
        #expect(MessageID.derived(role: "r", inputID: "", index: 300) == "r:4c6d0696a56599c4f95317052577b7ee")
    }

    /// Whole seconds from 1600 on as the format style writes them; the milliseconds of a Kafka
    /// timestamp exactly (the style truncates the binary fraction, so it is compared without it).
    @Test func rfc3339WritesTheCalendarOfTheFormatStyleAndExactMilliseconds() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        var milliseconds: [Int64] = [0, -1, 951_782_400_000, 951_868_799_999, 253_402_300_799_999, 1_796_318_880_123, -11_676_096_000_000, -12_212_553_600_000]
        for _ in 0..<5_000 { milliseconds.append(Int64.random(in: -11_676_096_000_000...253_402_300_799_999, using: &generator)) }
        for value in milliseconds {
            let (seconds, fraction) = value.quotientAndRemainder(dividingBy: 1000)
            let wholeSecond = fraction < 0 ? seconds - 1 : seconds
            let expected = style.format(Date(timeIntervalSince1970: Double(wholeSecond))).dropLast(4) + String(format: "%03dZ", (fraction + 1000) % 1000)
            #expect(Date(timeIntervalSince1970: Double(value) / 1000).rfc3339 == expected, "\(value)")
        }
        #expect(Date(timeIntervalSince1970: -12_212_553_600).rfc3339 == "1583-01-01T00:00:00.000Z")
        #expect(Date(timeIntervalSince1970: 1.2339).rfc3339 == "1970-01-01T00:00:01.234Z")
        // Outside years 1583–9999 the format style writes it, and every date reads back.
        for outside in [Date(timeIntervalSince1970: 253_402_300_800), Date(timeIntervalSince1970: -12_212_553_600.001), Date(timeIntervalSince1970: -62_135_596_800)] {
            #expect(outside.rfc3339 == style.format(outside))
        }
        for value in [-62_135_596_800_000, -12_212_553_600_000, 0, 1_796_318_880_123, 253_402_300_799_999] as [Int64] {
            let date = Date(timeIntervalSince1970: Double(value) / 1000)
            let read = Date(rfc3339: date.rfc3339)
            #expect(read.map { abs($0.timeIntervalSince(date)) < 0.001 } == true, "\(value)")
        }
    }
}
