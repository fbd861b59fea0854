/// One record header, as a value of its own (records keep theirs in `KafkaHeaders`).
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }

    public var stringValue: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The last header with `key`, as Kafka clients resolve repeated keys.
    public func last(_ key: String) -> KafkaHeader? { last { $0.key == key } }

    public func string(_ key: String) -> String? { last(key)?.stringValue }
}
