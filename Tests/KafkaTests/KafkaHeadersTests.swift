import Kafka
import Testing

@Suite struct KafkaHeadersTests {
    @Test func keepsEveryHeaderInOrderWithNullAndEmptyValuesApart() {
        var headers = KafkaHeaders()
        headers.append(name: "a", string: "1")
        headers.append(KafkaHeader(key: "null", value: nil))
        headers.append(KafkaHeader(key: "empty", value: []))
        headers.append(name: "a", string: "2")
        #expect(headers.count == 4)
        #expect(Array(headers) == [
            KafkaHeader(key: "a", string: "1"), KafkaHeader(key: "null", value: nil), KafkaHeader(key: "empty", value: []),
            KafkaHeader(key: "a", string: "2"),
        ])
        var seen: [(String, [UInt8]?)] = []
        headers.forEachRaw { name, value in seen.append((String(decoding: name, as: UTF8.self), value.map { Array($0) })) }
        #expect(seen.map(\.0) == ["a", "null", "empty", "a"])
        #expect(seen[1].1 == nil)
        #expect(seen[2].1 == [])
    }

    @Test func aLookupTakesTheLastHeaderOfTheName() {
        let headers: KafkaHeaders = [KafkaHeader(key: "ce_id", string: "first"), KafkaHeader(key: "other", string: "x"), KafkaHeader(key: "ce_id", string: "last")]
        #expect(headers.string("ce_id") == "last")
        #expect(headers.last("ce_id") == KafkaHeader(key: "ce_id", string: "last"))
        #expect(headers.string("ce_i") == nil)
        #expect(headers.string("ce_id_") == nil)
        #expect(headers.string("missing") == nil)
        #expect(headers.contains("other"))
        #expect(headers.withValue("other") { $0.map { Array($0) } } == Array("x".utf8))
    }

    @Test func aNullValueReadsAsAbsentTextButIsStillPresent() {
        let headers: KafkaHeaders = [KafkaHeader(key: "n", value: nil)]
        #expect(headers.string("n") == nil)
        #expect(headers.contains("n"))
        #expect(headers.last("n") == KafkaHeader(key: "n", value: nil))
    }

    @Test func concatenatesWithArraysAndOtherHeaders() {
        var headers: KafkaHeaders = [KafkaHeader(key: "a", string: "1")]
        headers += [KafkaHeader(key: "b", string: "2")]
        headers += KafkaHeaders([KafkaHeader(key: "c", string: "3")])
        let sum = headers + [KafkaHeader(key: "d", string: "4")]
        #expect(sum.map(\.key) == ["a", "b", "c", "d"])
        #expect(sum == KafkaHeaders(["a", "b", "c", "d"].enumerated().map { KafkaHeader(key: $1, string: String($0 + 1)) }))
        #expect(KafkaHeaders().isEmpty)
    }

    @Test func longValuesAndUnicodeNamesRoundTrip() {
        let value = [UInt8](repeating: 7, count: 100_000)
        let headers: KafkaHeaders = [KafkaHeader(key: "größe", value: value), KafkaHeader(key: "z", string: "ok")]
        #expect(headers.last("größe")?.value == value)
        #expect(headers.string("z") == "ok")
    }
}
