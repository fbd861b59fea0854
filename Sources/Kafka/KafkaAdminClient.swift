import CRdKafka
import Logging

/// Cluster administration: topics, their configs, consumer groups, their offsets and lag.
public final class KafkaAdminClient: Sendable {
    let client: RDKafkaClient
    let bootstrapServers: String
    let timeout: Duration

    public init(bootstrapServers: String, timeout: Duration = .seconds(15), logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(
            type: .producer,
            config: KafkaConfig(["bootstrap.servers": bootstrapServers, "client.id": "souk-admin"]),
            logger: logger
        )
        self.bootstrapServers = bootstrapServers
        self.timeout = timeout
    }

    // MARK: - Topics

    /// All topics with their partition counts, sorted by name (internal `__` topics excluded).
    public func listTopics() async throws -> [KafkaTopicDescription] {
        let timeout = timeout.timeoutMilliseconds
        return try await client.blocking { handle in
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            try KafkaError.check(rd_kafka_metadata(handle, 1, nil, &metadata, timeout))
            guard let metadata else { return [] }
            defer { rd_kafka_metadata_destroy(metadata) }
            let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
            return topics.compactMap { topic -> KafkaTopicDescription? in
                guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
                let name = String(cString: topic.topic)
                guard !name.hasPrefix("__") else { return nil }
                let replicas = topic.partition_cnt > 0 ? Int(topic.partitions[0].replica_cnt) : 0
                return KafkaTopicDescription(name: name, partitions: Int(topic.partition_cnt), replicationFactor: replicas)
            }.sorted { $0.name < $1.name }
        }
    }

    /// How many brokers the cluster has.
    public func brokerCount() async throws -> Int {
        let timeout = timeout.timeoutMilliseconds
        return try await client.blocking { handle in
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            try KafkaError.check(rd_kafka_metadata(handle, 0, nil, &metadata, timeout))
            guard let metadata else { return 0 }
            defer { rd_kafka_metadata_destroy(metadata) }
            return Int(metadata.pointee.broker_cnt)
        }
    }

    public func describeTopic(_ name: String) async throws -> KafkaTopicDescription? {
        try await listTopics().first { $0.name == name }
    }

    /// Creates topics; a topic that already exists is reported in the result, not thrown.
    /// - Returns: the names that already existed.
    @discardableResult
    public func createTopics(_ topics: [KafkaNewTopic]) async throws -> [String] {
        guard !topics.isEmpty else { return [] }
        return try await adminCall(
            start: { handle, options, queue in
                var errorBuffer = [CChar](repeating: 0, count: 512)
                var newTopics: [OpaquePointer?] = []
                defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
                for topic in topics {
                    guard
                        let newTopic = rd_kafka_NewTopic_new(
                            topic.name,
                            Int32(topic.partitions),
                            Int32(topic.replicationFactor),
                            &errorBuffer,
                            errorBuffer.count
                        )
                    else { throw KafkaError.configuration(String(cBuffer: errorBuffer)) }
                    newTopics.append(newTopic)
                    for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                        try KafkaError.check(rd_kafka_NewTopic_set_config(newTopic, key, value))
                    }
                }
                rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
            },
            read: { event in
                var count = 0
                let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
                return try Self.topicResults(results, count: count, tolerating: RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            }
        )
    }

    /// Deletes topics. - Returns: the names that did not exist.
    @discardableResult
    public func deleteTopics(_ names: [String]) async throws -> [String] {
        guard !names.isEmpty else { return [] }
        return try await adminCall(
            start: { handle, options, queue in
                var deletions: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
                defer { deletions.forEach { rd_kafka_DeleteTopic_destroy($0) } }
                rd_kafka_DeleteTopics(handle, &deletions, deletions.count, options, queue)
            },
            read: { event in
                var count = 0
                let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
                return try Self.topicResults(results, count: count, tolerating: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            }
        )
    }

    private static func topicResults(
        _ results: UnsafeMutablePointer<OpaquePointer?>?,
        count: Int,
        tolerating tolerated: rd_kafka_resp_err_t
    ) throws(KafkaError) -> [String] {
        var toleratedNames: [String] = []
        for index in 0..<count {
            guard let result = results?[index] else { continue }
            let code = rd_kafka_topic_result_error(result)
            let name = String(cString: rd_kafka_topic_result_name(result))
            if code == tolerated {
                toleratedNames.append(name)
            } else if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                let text = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? ""
                throw KafkaError(code: code, message: "\(name): \(text)")
            }
        }
        return toleratedNames
    }

    /// The topic's configuration as the broker reports it; `includeDefaults` adds unset properties.
    public func describeTopicConfigs(_ name: String, includeDefaults: Bool = false) async throws -> [String: String] {
        try await adminCall(
            start: { handle, options, queue in
                var resources: [OpaquePointer?] = [rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name)]
                defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
                rd_kafka_DescribeConfigs(handle, &resources, 1, options, queue)
            },
            read: { event in
                var count = 0
                let resources = rd_kafka_DescribeConfigs_result_resources(
                    rd_kafka_event_DescribeConfigs_result(event),
                    &count
                )
                var configs: [String: String] = [:]
                for index in 0..<count {
                    guard let resource = resources?[index] else { continue }
                    try KafkaError.check(rd_kafka_ConfigResource_error(resource))
                    var entryCount = 0
                    let entries = rd_kafka_ConfigResource_configs(resource, &entryCount)
                    for entryIndex in 0..<entryCount {
                        guard let entry = entries?[entryIndex] else { continue }
                        if !includeDefaults && rd_kafka_ConfigEntry_is_default(entry) != 0 { continue }
                        guard let value = rd_kafka_ConfigEntry_value(entry) else { continue }
                        configs[String(cString: rd_kafka_ConfigEntry_name(entry))] = String(cString: value)
                    }
                }
                return configs
            }
        )
    }

    /// Sets topic configs one by one (IncrementalAlterConfigs; the legacy AlterConfigs is not used).
    public func setTopicConfigs(_ name: String, _ configs: [String: String]) async throws {
        guard !configs.isEmpty else { return }
        try await adminCall(
            start: { handle, options, queue in
                var resources: [OpaquePointer?] = [rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name)]
                defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
                for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
                    try KafkaError.check(
                        rd_kafka_ConfigResource_add_incremental_config(resources[0], key, RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, value)
                    )
                }
                rd_kafka_IncrementalAlterConfigs(handle, &resources, 1, options, queue)
            },
            read: { event in
                var count = 0
                let resources = rd_kafka_IncrementalAlterConfigs_result_resources(
                    rd_kafka_event_IncrementalAlterConfigs_result(event),
                    &count
                )
                for index in 0..<count {
                    if let resource = resources?[index] { try KafkaError.check(rd_kafka_ConfigResource_error(resource)) }
                }
            }
        )
    }

    // MARK: - Offsets of partitions

    /// The low and high watermarks of a partition.
    public func watermarks(_ partition: KafkaTopicPartition) async throws -> (low: Int64, high: Int64) {
        let timeout = timeout.timeoutMilliseconds
        return try await client.blocking { handle in
            var low: Int64 = 0
            var high: Int64 = 0
            try KafkaError.check(
                rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, timeout)
            )
            return (low, high)
        }
    }

    /// Per partition, the first offset with a timestamp at or after `milliseconds`; the end offset where
    /// no record is that recent (Kafka answers -1 there).
    public func offsets(
        forTimestamp milliseconds: Int64,
        in partitions: [KafkaTopicPartition]
    ) async throws -> [KafkaTopicPartition: Int64] {
        let timeout = timeout.timeoutMilliseconds
        let found = try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(partitions.map { KafkaTopicPartitionOffset($0, offset: KafkaOffset(milliseconds)) })
            try KafkaError.check(list.withPointer { rd_kafka_offsets_for_times(handle, $0, timeout) })
            try list.checkElements()
            return list.offsets
        }
        var result: [KafkaTopicPartition: Int64] = [:]
        for entry in found {
            result[entry.topicPartition] =
                entry.offset.rawValue >= 0 ? entry.offset.rawValue : try await watermarks(entry.topicPartition).high
        }
        return result
    }

    /// The partitions of a topic.
    public func partitions(of topic: String) async throws -> [KafkaTopicPartition] {
        guard let description = try await describeTopic(topic) else {
            throw KafkaError(kind: .failed, codeName: "UNKNOWN_TOPIC_OR_PART", message: "unknown topic '\(topic)'")
        }
        return (0..<description.partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
    }

    // MARK: - Helpers

    /// Runs one asynchronous admin request on this client's thread and waits for its result event.
    func adminCall<T: Sendable>(
        start: @escaping @Sendable (OpaquePointer, OpaquePointer?, OpaquePointer?) throws -> Void,
        read: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        let timeout = timeout.timeoutMilliseconds
        return try await client.blocking { handle in
            let queue = rd_kafka_queue_new(handle)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_ANY)
            defer { rd_kafka_AdminOptions_destroy(options) }
            var errorBuffer = [CChar](repeating: 0, count: 512)
            try KafkaError.check(
                rd_kafka_AdminOptions_set_request_timeout(options, timeout, &errorBuffer, errorBuffer.count),
                String(cBuffer: errorBuffer)
            )
            try start(handle, options, queue)
            guard let event = rd_kafka_queue_poll(queue, timeout + 1000) else {
                throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT, message: "admin request timed out")
            }
            defer { rd_kafka_event_destroy(event) }
            let code = rd_kafka_event_error(event)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: code, message: rd_kafka_event_error_string(event).map { String(cString: $0) })
            }
            return try read(event)
        }
    }
}
