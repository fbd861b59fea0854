/// Configuration of a `KafkaProducer` or `KafkaTransactionalProducer`.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    public var bootstrapServers: String
    public var clientID: String
    /// Idempotence is on by default: retries never duplicate or reorder a partition's records.
    public var enableIdempotence: Bool
    /// `murmur2_random` is the Java client's mapping of keys to partitions, so that producers in any
    /// language agree with Souk on where a key lives.
    public var partitioner: String
    public var linger: Duration
    /// The longest a transaction may stay open before the broker aborts it (where the broker enforces it).
    public var transactionTimeout: Duration
    /// Passed to librdkafka as they are; these win over the typed fields.
    public var additional: [String: String]

    public init(
        bootstrapServers: String,
        clientID: String = "souk",
        enableIdempotence: Bool = true,
        partitioner: String = "murmur2_random",
        linger: Duration = .milliseconds(5),
        transactionTimeout: Duration = .seconds(60),
        additional: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.enableIdempotence = enableIdempotence
        self.partitioner = partitioner
        self.linger = linger
        self.transactionTimeout = transactionTimeout
        self.additional = additional
    }

    func config(transactionalID: String? = nil) -> KafkaConfig {
        var config = KafkaConfig([
            "bootstrap.servers": bootstrapServers,
            "client.id": clientID,
            "enable.idempotence": enableIdempotence || transactionalID != nil ? "true" : "false",
            "partitioner": partitioner,
            "linger.ms": String(linger.wholeMilliseconds),
            "transaction.timeout.ms": String(transactionTimeout.wholeMilliseconds),
        ])
        config["transactional.id"] = transactionalID
        return config.merging(additional)
    }
}
