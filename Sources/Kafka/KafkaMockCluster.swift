import CRdKafka
import Logging

/// librdkafka's in-process mock cluster, for fault injection in tests.
///
/// It speaks the Kafka protocol on loopback ports, so ordinary clients connect through
/// `bootstrapServers`; `failNextRequests` and `setRoundTripTime` make it misbehave on purpose.
/// It does not serve CreateTopics (use `createTopic`) and, like the local broker, does not hide
/// aborted records from `read_committed` readers.
public final class KafkaMockCluster: @unchecked Sendable {
    /// The Kafka protocol request types tests inject errors into.
    public enum APIKey: Int16, Sendable {
        case produce = 0
        case fetch = 1
        case offsetCommit = 8
        case findCoordinator = 10
        case initProducerID = 22
        case addPartitionsToTransaction = 24
        case addOffsetsToTransaction = 25
        case endTransaction = 26
        case transactionOffsetCommit = 28
    }

    // @unchecked: the mock cluster's own API is thread-safe; the owner client only keeps it alive.
    private let owner: RDKafkaClient
    private let cluster: OpaquePointer
    public let bootstrapServers: String
    public let brokerCount: Int

    public init(brokers: Int = 3, logger: Logger) throws(KafkaError) {
        owner = try RDKafkaClient(type: .producer, config: KafkaConfig(), logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(owner.handle, Int32(brokers)) else {
            throw .invalidState("could not create a mock cluster")
        }
        self.cluster = cluster
        brokerCount = brokers
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor)))
    }

    /// The next `errors.count` requests of type `apiKey` fail with these broker error codes, in order.
    /// Codes are Kafka protocol error codes (e.g. 90 PRODUCER_FENCED, 29 TOPIC_AUTHORIZATION_FAILED).
    public func failNextRequests(_ apiKey: APIKey, withErrorCodes errors: [Int32]) {
        let codes = errors.map { rd_kafka_resp_err_t($0) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Starts recording the requests the cluster receives (see `receivedRequests`).
    public func startTrackingRequests() {
        rd_kafka_mock_start_request_tracking(cluster)
    }

    /// How many requests of type `apiKey` the cluster has received since tracking started.
    public func receivedRequests(_ apiKey: APIKey) -> Int {
        var count = 0
        guard let requests = rd_kafka_mock_get_requests(cluster, &count) else { return 0 }
        defer { rd_kafka_mock_request_destroy_array(requests, count) }
        return (0..<count).count { rd_kafka_mock_request_api_key(requests[$0]) == apiKey.rawValue }
    }

    /// Delays every response of every broker by `rtt` (zero restores normal speed).
    public func setRoundTripTime(_ rtt: Duration) throws(KafkaError) {
        for broker in 1...brokerCount {
            try KafkaError.check(rd_kafka_mock_broker_set_rtt(cluster, Int32(broker), rtt.timeoutMilliseconds))
        }
    }
}
