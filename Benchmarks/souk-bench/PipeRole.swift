import Kafka
import Streams

/// Forwards every record unchanged (value, key, and the benchmark's send-time header): the runtime's
/// own cost, with no decoding and no state.
struct PipeRole: StreamRole {
    let name: String
    let inputTopics: [String]
    let outputTopic: String

    var deduplicatesInputs: Bool { false }

    func decode(_ record: InboundRecord) throws -> [UInt8] { record.value ?? [] }

    func handle(_ input: [UInt8], state: Empty?, context: HandlerContext) throws -> HandlerResult<Empty> {
        var sent = KafkaHeaders()
        context.record.headers.withValue(BenchHeader.sent) { value in
            if let value { sent.append(name: BenchHeader.sent, value: value) }
        }
        return HandlerResult(outputs: [
            OutboundMessage(topic: outputTopic, key: context.record.key, type: "souk.bench.Piped.v1", value: input, headers: sent)
        ])
    }

    struct Empty: Codable, Sendable, Equatable {}
}

enum BenchHeader {
    static let sent = "bench_sent_ns"
}
