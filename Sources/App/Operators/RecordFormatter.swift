import Foundation
import Kafka
import Streams
import Timestamps

/// How `souk tail` and `souk saga` print records: one line each for people (time, place, key, type,
/// correlation id, a compact body), or one JSON object per line for scripts.
public struct RecordFormatter: Sendable {
    public var colour: Bool
    public var bodyWidth: Int

    public init(colour: Bool, bodyWidth: Int = 160) {
        self.colour = colour
        self.bodyWidth = bodyWidth
    }

    /// `souk.order.OrderCreated.v1` → `OrderCreated`.
    public static func shortType(_ type: String?) -> String {
        guard let type else { return "-" }
        let parts = type.split(separator: ".")
        return parts.count >= 3 ? String(parts[parts.count - 2]) : type
    }

    static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "-" }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000).rfc3339
    }

    /// The body on one line, cut to `bodyWidth`.
    func compact(_ value: [UInt8]?) -> String {
        guard let value else { return "(null)" }
        var text = String(decoding: value, as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        if let json = try? JSONSerialization.jsonObject(with: Data(value)),
            let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
        {
            text = String(decoding: data, as: UTF8.self)
        }
        return text.count > bodyWidth ? String(text.prefix(bodyWidth - 1)) + "…" : text
    }

    private func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    public func line(_ message: KafkaConsumerMessage) -> String {
        let type = Self.shortType(message.headers.string(CloudEventHeader.type))
        let correlation = message.headers.string(CloudEventHeader.correlationID) ?? "-"
        let typeColour = type.contains("Rejected") || type.contains("Failed") ? "31" : type.hasSuffix("Created") || type.hasSuffix("Fulfilled") ? "32" : "36"
        return [
            paint(Self.time(message.timestampMilliseconds), "2"),
            "\(message.topic)/\(message.partition)@\(message.offset)",
            "key=\(message.keyString ?? "-")",
            paint(type, typeColour),
            paint("corr=\(correlation)", "2"),
            compact(message.value),
        ].joined(separator: " ")
    }

    /// One JSON object: the record's place, key, headers and body (as JSON when it is JSON).
    public func json(_ message: KafkaConsumerMessage) -> String {
        var object: [String: Any] = [
            "topic": message.topic, "partition": Int(message.partition), "offset": Int(message.offset),
            "timestamp": Self.time(message.timestampMilliseconds),
            "headers": Dictionary(message.headers.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) } ?? "") }, uniquingKeysWith: { _, last in last }),
        ]
        object["key"] = message.keyString ?? NSNull()
        object["type"] = message.headers.string(CloudEventHeader.type) ?? NSNull()
        if let value = message.value {
            object["value"] = (try? JSONSerialization.jsonObject(with: Data(value))) ?? String(decoding: value, as: UTF8.self)
        } else {
            object["value"] = NSNull()
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
