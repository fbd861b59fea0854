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
    /// Produce requests out per broker connection. One by default: the local broker (Tansu) assigns a
    /// batch its offsets, then records its transaction, then stores it; with two requests of one
    /// partition out, the later batch can be stored first, and a fetch in between returns it and moves
    /// the reader past the earlier one for good (seen under the fault test as stock never answered).
    public var maxInFlight: Int
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
        maxInFlight: Int = 1,
        transactionTimeout: Duration = .seconds(60),
        additional: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.enableIdempotence = enableIdempotence
        self.partitioner = partitioner
        self.linger = linger
        self.maxInFlight = maxInFlight
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
            "max.in.flight.requests.per.connection": String(maxInFlight),
            "transaction.timeout.ms": String(transactionTimeout.wholeMilliseconds),
        ])
        config["transactional.id"] = transactionalID
        return config.merging(additional)
    }
}
