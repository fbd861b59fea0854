import CRdKafka

extension KafkaAdminClient {
    /// Every consumer group the cluster knows, sorted by id.
    public func listGroups() async throws -> [KafkaGroupListing] {
        try await adminCall(
            start: { handle, options, queue in rd_kafka_ListConsumerGroups(handle, options, queue) },
            read: { event in
                let result = rd_kafka_event_ListConsumerGroups_result(event)
                var count = 0
                let listings = rd_kafka_ListConsumerGroups_result_valid(result, &count)
                return (0..<count).compactMap { index -> KafkaGroupListing? in
                    guard let listing = listings?[index] else { return nil }
                    return KafkaGroupListing(
                        groupID: String(cString: rd_kafka_ConsumerGroupListing_group_id(listing)),
                        state: String(cString: rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(listing)))
                    )
                }.sorted { $0.groupID < $1.groupID }
            }
        )
    }

    /// The group's state and members (empty where the broker does not report them).
    public func describeGroupMembers(_ groupID: String) async throws -> (state: String, members: [KafkaGroupMember]) {
        try await adminCall(
            start: { handle, options, queue in
                groupID.withCString { name in
                    var names: [UnsafePointer<CChar>?] = [name]
                    rd_kafka_DescribeConsumerGroups(handle, &names, 1, options, queue)
                }
            },
            read: { event in
                var count = 0
                let groups = rd_kafka_DescribeConsumerGroups_result_groups(
                    rd_kafka_event_DescribeConsumerGroups_result(event),
                    &count
                )
                guard count > 0, let group = groups?[0] else { return ("Unknown", []) }
                if let error = rd_kafka_ConsumerGroupDescription_error(group), rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(code: rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)))
                }
                let state = String(cString: rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(group)))
                let members = (0..<rd_kafka_ConsumerGroupDescription_member_count(group)).compactMap { index -> KafkaGroupMember? in
                    guard let member = rd_kafka_ConsumerGroupDescription_member(group, index) else { return nil }
                    var assignment: [KafkaTopicPartition] = []
                    if let memberAssignment = rd_kafka_MemberDescription_assignment(member),
                        let partitions = rd_kafka_MemberAssignment_partitions(memberAssignment)
                    {
                        assignment = RDKafkaTopicPartitionList(borrowing: UnsafeMutablePointer(mutating: partitions)).partitions.sorted()
                    }
                    return KafkaGroupMember(
                        memberID: String(cString: rd_kafka_MemberDescription_consumer_id(member)),
                        clientID: String(cString: rd_kafka_MemberDescription_client_id(member)),
                        host: String(cString: rd_kafka_MemberDescription_host(member)),
                        assignment: assignment
                    )
                }
                return (state, members)
            }
        )
    }

    /// The group's committed offsets (the next offset it reads) for every partition it committed.
    public func committedOffsets(_ groupID: String) async throws -> [KafkaTopicPartition: Int64] {
        try await adminCall(
            start: { handle, options, queue in
                var requests: [OpaquePointer?] = [rd_kafka_ListConsumerGroupOffsets_new(groupID, nil)]
                defer { requests.forEach { rd_kafka_ListConsumerGroupOffsets_destroy($0) } }
                rd_kafka_ListConsumerGroupOffsets(handle, &requests, 1, options, queue)
            },
            read: { event in
                var count = 0
                let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
                    rd_kafka_event_ListConsumerGroupOffsets_result(event),
                    &count
                )
                guard count > 0, let group = groups?[0] else { return [:] }
                if let error = rd_kafka_group_result_error(group) {
                    throw KafkaError(code: rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)))
                }
                guard let partitions = rd_kafka_group_result_partitions(group) else { return [:] }
                var offsets: [KafkaTopicPartition: Int64] = [:]
                for entry in RDKafkaTopicPartitionList(borrowing: UnsafeMutablePointer(mutating: partitions)).offsets
                where !entry.offset.isLogical {
                    offsets[entry.topicPartition] = entry.offset.rawValue
                }
                return offsets
            }
        )
    }

    /// State, members, and per partition the committed offset, end offset and lag.
    ///
    /// `topics` adds partitions the group has not committed yet (their lag is the whole partition).
    public func describeGroup(_ groupID: String, topics: [String] = []) async throws -> KafkaGroupDescription {
        let (state, members) = try await describeGroupMembers(groupID)
        let committed = try await committedOffsets(groupID)
        var partitions = Set(committed.keys)
        for topic in topics { partitions.formUnion(try await self.partitions(of: topic)) }
        let ends = try await endOffsets(Array(partitions))
        // Small gaps are counted record by record: there a marker or two is most of the apparent lag.
        let small = committed.filter { partition, offset in
            let end = ends[partition] ?? 0
            return end > offset && end - offset <= 1_000
        }
        let counted = try await countRecords(from: small, to: ends)
        let lags = partitions.sorted().map { partition in
            KafkaPartitionLag(topicPartition: partition, committed: committed[partition], endOffset: ends[partition] ?? 0, counted: counted[partition])
        }
        return KafkaGroupDescription(groupID: groupID, state: state, members: members, partitions: lags)
    }

    /// The offsets `alterGroupOffsets` would set, without setting them.
    /// - Parameter knownEnds: end offsets the caller already fetched (saves another fetch probe).
    public func resolveOffsets(
        _ target: KafkaOffsetTarget,
        for partitions: [KafkaTopicPartition],
        knownEnds: [KafkaTopicPartition: Int64]? = nil
    ) async throws -> [KafkaTopicPartition: Int64] {
        var resolved: [KafkaTopicPartition: Int64] = [:]
        switch target {
        case .timestamp(let milliseconds):
            resolved = try await offsets(forTimestamp: milliseconds, in: partitions)
        default:
            let ends: [KafkaTopicPartition: Int64]
            if let knownEnds { ends = knownEnds } else { ends = try await endOffsets(partitions) }
            for partition in partitions {
                let low = try await watermarks(partition).low
                let high = ends[partition] ?? 0
                resolved[partition] =
                    switch target {
                    case .earliest: low
                    case .latest: high
                    case .offset(let offset): min(max(offset, low), high)
                    case .timestamp: high
                    }
            }
        }
        return resolved
    }

    /// Sets an inactive group's committed offsets (Kafka refuses while the group has members).
    public func alterGroupOffsets(_ groupID: String, to offsets: [KafkaTopicPartition: Int64]) async throws {
        guard !offsets.isEmpty else { return }
        let entries = offsets.sorted { $0.key < $1.key }.map { KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value)) }
        try await adminCall(
            start: { handle, options, queue in
                let list = RDKafkaTopicPartitionList(entries)
                var requests: [OpaquePointer?] = [list.withPointer { rd_kafka_AlterConsumerGroupOffsets_new(groupID, $0) }]
                defer { requests.forEach { rd_kafka_AlterConsumerGroupOffsets_destroy($0) } }
                rd_kafka_AlterConsumerGroupOffsets(handle, &requests, 1, options, queue)
            },
            read: { event in
                var count = 0
                let groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
                    rd_kafka_event_AlterConsumerGroupOffsets_result(event),
                    &count
                )
                guard count > 0, let group = groups?[0] else { return }
                if let error = rd_kafka_group_result_error(group) {
                    throw KafkaError(code: rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)))
                }
                if let partitions = rd_kafka_group_result_partitions(group) {
                    try RDKafkaTopicPartitionList(borrowing: UnsafeMutablePointer(mutating: partitions)).checkElements()
                }
            }
        )
    }

    public func deleteGroup(_ groupID: String) async throws {
        try await adminCall(
            start: { handle, options, queue in
                var requests: [OpaquePointer?] = [rd_kafka_DeleteGroup_new(groupID)]
                defer { requests.forEach { rd_kafka_DeleteGroup_destroy($0) } }
                rd_kafka_DeleteGroups(handle, &requests, 1, options, queue)
            },
            read: { event in
                var count = 0
                let groups = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(event), &count)
                if count > 0, let group = groups?[0], let error = rd_kafka_group_result_error(group) {
                    throw KafkaError(code: rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)))
                }
            }
        )
    }
}
