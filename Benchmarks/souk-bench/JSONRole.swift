import Streams

/// What a real role does to each record, minus its business rule: decodes the JSON value into a
/// type, remembers the record's id (dedupe on), and encodes an output from it. Stateless, so that the
/// row measures decoding, dedupe and encoding rather than a particular state.
struct JSONRole: StreamRole {
    let name: String
    let inputTopics: [String]
    let outputTopic: String

    func handle(_ input: BenchItem, state: Empty?, context: HandlerContext) throws -> HandlerResult<Empty> {
        var output = input
        output.quantity += 1
        var message = try OutboundMessage(topic: outputTopic, key: context.record.key, type: "souk.bench.ItemSeen.v1", payload: output)
        context.record.headers.withValue(BenchHeader.sent) { value in
            if let value { message.headers.append(name: BenchHeader.sent, value: value) }
        }
        return HandlerResult(outputs: [message])
    }

    struct Empty: Codable, Sendable, Equatable {}
}

/// The benchmark's record value: a small JSON document, padded by `note` to the record size.
struct BenchItem: Codable, Sendable {
    var sku: String
    var quantity: Int
    var unitPrice: Int
    var note: String

    /// Encoded JSON of about `size` bytes.
    static func value(index: Int, size: Int) -> [UInt8] {
        let head = "{\"sku\":\"SKU-\(index % 10_000)\",\"quantity\":\(index % 7 + 1),\"unitPrice\":\(index % 1000 * 100),\"note\":\""
        let tail = "\"}"
        let padding = String(repeating: "x", count: max(0, size - head.utf8.count - tail.utf8.count))
        return Array((head + padding + tail).utf8)
    }
}
