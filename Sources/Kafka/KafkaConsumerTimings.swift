/// Group-membership and fetch timings of a consumer.
///
/// Production keeps Kafka's defaults (every field `nil`). The local broker needs shorter ones: it
/// holds each JoinGroup for half of the session timeout and does not wake a waiting fetch when data
/// arrives, so `scripts/stack` writes suitable values into its env file and `init(environment:)` reads them.
public struct KafkaConsumerTimings: Sendable, Hashable {
    public var sessionTimeout: Duration?
    public var heartbeatInterval: Duration?
    public var maxPollInterval: Duration?
    public var fetchWaitMax: Duration?
    public var fetchQueueBackoff: Duration?

    public init(
        sessionTimeout: Duration? = nil,
        heartbeatInterval: Duration? = nil,
        maxPollInterval: Duration? = nil,
        fetchWaitMax: Duration? = nil,
        fetchQueueBackoff: Duration? = nil
    ) {
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxPollInterval = maxPollInterval
        self.fetchWaitMax = fetchWaitMax
        self.fetchQueueBackoff = fetchQueueBackoff
    }

    /// Kafka's own defaults: nothing is overridden.
    public static let kafkaDefaults = KafkaConsumerTimings()

    /// The environment variables `scripts/stack` writes, each in milliseconds.
    static var environmentKeys: [(WritableKeyPath<KafkaConsumerTimings, Duration?>, String)] {
        [
            (\.sessionTimeout, "KAFKA_SESSION_TIMEOUT_MS"),
            (\.heartbeatInterval, "KAFKA_HEARTBEAT_INTERVAL_MS"),
            (\.maxPollInterval, "KAFKA_MAX_POLL_INTERVAL_MS"),
            (\.fetchWaitMax, "KAFKA_FETCH_WAIT_MAX_MS"),
            (\.fetchQueueBackoff, "KAFKA_FETCH_QUEUE_BACKOFF_MS"),
        ]
    }

    /// Reads the timings from `environment`; keys that are absent keep Kafka's defaults.
    public init(environment: [String: String]) throws(KafkaError) {
        self.init()
        for (keyPath, name) in Self.environmentKeys {
            guard let raw = environment[name] else { continue }
            guard let milliseconds = Int64(raw), milliseconds >= 0 else {
                throw .configuration("\(name) must be a non-negative number of milliseconds, got '\(raw)'")
            }
            self[keyPath: keyPath] = .milliseconds(milliseconds)
        }
    }

    /// The librdkafka consumer properties these timings set (for clients outside this module, such as a C reference pipe).
    public var properties: [String: String] {
        var properties: [String: String] = [:]
        properties["session.timeout.ms"] = sessionTimeout.map { String($0.wholeMilliseconds) }
        properties["heartbeat.interval.ms"] = heartbeatInterval.map { String($0.wholeMilliseconds) }
        properties["max.poll.interval.ms"] = maxPollInterval.map { String($0.wholeMilliseconds) }
        properties["fetch.wait.max.ms"] = fetchWaitMax.map { String($0.wholeMilliseconds) }
        properties["fetch.queue.backoff.ms"] = fetchQueueBackoff.map { String($0.wholeMilliseconds) }
        return properties
    }
}
