/// librdkafka configuration properties as plain key/value strings.
///
/// The typed configurations (`KafkaProducerConfiguration`, `KafkaConsumerConfiguration`) render into this;
/// `additional` properties on them pass anything else straight through.
public struct KafkaConfig: Sendable, Hashable {
    public private(set) var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// `other` wins where both set a key.
    public func merging(_ other: [String: String]) -> KafkaConfig {
        KafkaConfig(properties.merging(other) { _, new in new })
    }

    /// Keys whose values never reach a log.
    static func isSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return lowered.contains("password") || lowered.contains("secret") || lowered.hasSuffix(".key")
            || lowered.contains("sasl.oauthbearer.config") || lowered.contains("token")
    }

    /// Sorted `key=value` lines with secrets replaced, for logs and diagnostics.
    public var redactedDescription: String {
        properties.keys.sorted().map { key in
            "\(key)=\(KafkaConfig.isSecret(key) ? "[REDACTED]" : properties[key]!)"
        }.joined(separator: "\n")
    }
}

extension Duration {
    /// Whole milliseconds, as librdkafka's `*.ms` properties want them.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var timeoutMilliseconds: Int32 {
        Int32(clamping: max(0, wholeMilliseconds))
    }
}
