import CRdKafka
import Logging
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A consumer-group member (or a manually assigned reader) that polls in batches off the cooperative pool.
///
/// Reads `read_committed` by default and never commits on its own: offsets are committed with
/// `commit(_:)` or inside a transaction (`KafkaTransactionalProducer.sendOffsets`).
public final class KafkaConsumer: Sendable {
    let client: RDKafkaClient
    public let groupID: String
    private let pollClock = Mutex(PollClock())

    /// - Parameter rebalanceListener: called inside `poll` when partitions are assigned or revoked;
    ///   assignment itself (eager or cooperative, as the group's protocol says) is done by the binding.
    /// - Parameter pauseOnAssign: newly assigned partitions start paused, so that nothing of theirs is
    ///   fetched before their owner is ready (`resume`), whoever polls meanwhile.
    public init(
        configuration: KafkaConsumerConfiguration,
        logger: Logger,
        rebalanceListener: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil,
        pauseOnAssign: Bool = false
    ) throws(KafkaError) {
        client = try RDKafkaClient(
            type: .consumer,
            config: configuration.config,
            logger: logger,
            rebalanceListener: rebalanceListener,
            pauseOnAssign: pauseOnAssign
        )
        groupID = configuration.groupID
        // Serve logs, errors and rebalances from the consumer queue, i.e. inside poll.
        rd_kafka_poll_set_consumer(client.handle)
    }

    public func subscribe(topics: [String]) async throws {
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(topics.map { KafkaTopicPartition(topic: $0, partition: -1) })
            try KafkaError.check(list.withPointer { rd_kafka_subscribe(handle, $0) })
        }
    }

    /// Reads the given partitions from the given offsets without joining the group's rebalancing
    /// (`.stored` starts from the group's committed offset).
    public func assign(_ partitions: [KafkaTopicPartitionOffset]) async throws {
        try await client.blocking { handle in
            try KafkaError.check(RDKafkaTopicPartitionList(partitions).withPointer { rd_kafka_assign(handle, $0) })
        }
    }

    public func assignment() async throws -> [KafkaTopicPartition] {
        try await client.blocking { handle in
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? = nil
            try KafkaError.check(rd_kafka_assignment(handle, &list))
            guard let list else { return [] }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            return RDKafkaTopicPartitionList(borrowing: list).partitions.sorted()
        }
    }

    /// Moves the next fetch position of assigned partitions.
    public func seek(_ positions: [KafkaTopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        try await seek(positions, timeout: timeout, then: {})
    }

    /// Seeks, then runs `then` on the consumer's thread before any later call of this consumer (a poll
    /// included) runs: what `then` records is ordered with the records polls return.
    public func seek(_ positions: [KafkaTopicPartitionOffset], timeout: Duration = .seconds(10), then: @escaping @Sendable () -> Void) async throws {
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(positions)
            defer { then() }
            try KafkaError.check(list.withPointer { rd_kafka_seek_partitions(handle, $0, timeout.timeoutMilliseconds) })
            try list.checkElements()
        }
    }

    public func pause(_ partitions: [KafkaTopicPartition]) async throws {
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(partitions)
            try KafkaError.check(list.withPointer { rd_kafka_pause_partitions(handle, $0) })
            try list.checkElements()
        }
    }

    public func resume(_ partitions: [KafkaTopicPartition]) async throws {
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(partitions)
            try KafkaError.check(list.withPointer { rd_kafka_resume_partitions(handle, $0) })
            try list.checkElements()
        }
    }

    /// The next offset this consumer will read per partition (absent before anything was fetched).
    public func positions(_ partitions: [KafkaTopicPartition]) async throws -> [KafkaTopicPartition: Int64] {
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(partitions)
            try KafkaError.check(list.withPointer { rd_kafka_position(handle, $0) })
            return Self.offsetMap(list)
        }
    }

    /// The group's committed offsets (the next offset to read) per partition, absent where none.
    public func committed(
        _ partitions: [KafkaTopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [KafkaTopicPartition: Int64] {
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(partitions)
            try KafkaError.check(list.withPointer { rd_kafka_committed(handle, $0, timeout.timeoutMilliseconds) })
            return Self.offsetMap(list)
        }
    }

    private static func offsetMap(_ list: RDKafkaTopicPartitionList) -> [KafkaTopicPartition: Int64] {
        Dictionary(
            list.offsets.filter { !$0.offset.isLogical }.map { ($0.topicPartition, $0.offset.rawValue) },
            uniquingKeysWith: { _, last in last }
        )
    }

    /// Commits, outside any transaction, the positions after the given last processed offsets.
    public func commit(lastProcessed: [KafkaTopicPartition: Int64]) async throws {
        guard !lastProcessed.isEmpty else { return }
        try await client.blocking { handle in
            let list = RDKafkaTopicPartitionList(
                lastProcessed.map { KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value + 1)) }
            )
            try KafkaError.check(list.withPointer { rd_kafka_commit(handle, $0, 0) })
            try list.checkElements()
        }
    }

    /// Whether the group took the assignment away without a revocation this member saw in time (for
    /// example after a session timeout). Nothing may be committed for it then.
    public var isAssignmentLost: Bool { rd_kafka_assignment_lost(client.handle) != 0 }

    /// Whether this consumer went longer than `threshold` without polling (or inside one poll, past its
    /// timeout), noticed within the last `window`. A process frozen (SIGSTOP, a paused VM) or starved
    /// past its session may have lost its partitions before librdkafka has said so: a zombie that
    /// wakes must not commit, nor initialise a transactional id that the new owner now holds.
    public func wasAway(longerThan threshold: Duration, within window: Duration) -> Bool {
        pollClock.withLock { $0.wasAway(longerThan: threshold, within: window, now: .now) }
    }

    /// How often librdkafka reported that this member let `max.poll.interval.ms` pass without a poll.
    public var pollIntervalBreaches: Int { client.context.pollIntervalBreaches.load(ordering: .relaxed) }

    /// The membership a transaction needs in `sendOffsets`.
    public func groupMetadata() throws(KafkaError) -> KafkaConsumerGroupMetadata {
        guard let pointer = rd_kafka_consumer_group_metadata(client.handle) else {
            throw .invalidState("consumer has no group metadata")
        }
        return KafkaConsumerGroupMetadata(pointer: pointer)
    }

    /// Waits up to `timeout` for a first record, then takes what is already fetched, up to `maxMessages`.
    ///
    /// Runs on the consumer's own thread. Rebalances happen here; if partitions are revoked during the
    /// call, records of those partitions are dropped from the batch (their new owner will read them).
    public func poll(maxMessages: Int = 500, timeout: Duration = .milliseconds(100)) async throws -> [KafkaConsumerMessage] {
        try await pollBatch(maxMessages: maxMessages, timeout: timeout).messages
    }

    /// Like `poll`, and also reports the partitions whose end was reached (only when the consumer was
    /// configured with `enable.partition.eof=true`), as the offset it reached.
    ///
    /// Waits for the first record with one `rd_kafka_consumer_poll`, then takes what is already
    /// fetched in batches from the consumer queue, without waiting.
    public func pollBatch(maxMessages: Int = 500, timeout: Duration = .milliseconds(100)) async throws -> KafkaConsumerBatch {
        try await pollBatch(maxMessages: maxMessages, timeout: timeout, snapshot: {}).batch
    }

    /// Like `pollBatch(maxMessages:timeout:)`, with `snapshot` taken on the consumer's thread just
    /// before the poll: calls of this consumer that ran before (seeks with their `then`) are in it,
    /// later ones are not.
    public func pollBatch<Snapshot: Sendable>(
        maxMessages: Int = 500,
        timeout: Duration = .milliseconds(100),
        snapshot: @escaping @Sendable () -> Snapshot
    ) async throws -> (batch: KafkaConsumerBatch, snapshot: Snapshot) {
        let started = ContinuousClock.now
        defer { notePoll(started: started, timeout: timeout) }
        let client = self.client
        return try await client.blocking { handle in
            let taken = snapshot()
            let context = client.context
            context.revokedDuringPoll.withLock { $0 = [] }
            defer { context.revokedDuringPoll.withLock { $0 = nil } }
            var reader = MessageReader(client: client)
            defer { reader.finish() }
            var batch = KafkaConsumerBatch()
            batch.messages.reserveCapacity(min(maxMessages, 1024))
            if let first = rd_kafka_consumer_poll(handle, timeout.timeoutMilliseconds) {
                defer { rd_kafka_message_destroy(first) }
                try reader.take(first, into: &batch)
            }
            if let queue = client.consumerQueue {
                let chunk = 512
                var pointers = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: chunk)
                while !batch.messages.isEmpty, batch.messages.count < maxMessages, !context.revokedDuringPoll.withLock({ !($0?.isEmpty ?? true) }) {
                    let read = pointers.withUnsafeMutableBufferPointer { buffer in
                        rd_kafka_consume_batch_queue(queue, 0, buffer.baseAddress, min(chunk, maxMessages - batch.messages.count))
                    }
                    guard read > 0 else { break }
                    defer { for index in 0..<read { rd_kafka_message_destroy(pointers[index]) } }
                    for index in 0..<read { try reader.take(pointers[index]!, into: &batch) }
                }
            } else {
                while !batch.messages.isEmpty, batch.messages.count < maxMessages, let next = rd_kafka_consumer_poll(handle, 0) {
                    defer { rd_kafka_message_destroy(next) }
                    try reader.take(next, into: &batch)
                }
            }
            let revoked = context.revokedDuringPoll.withLock { $0 ?? [] }
            if !revoked.isEmpty {
                batch.messages.removeAll { revoked.contains($0.topicPartition) }
                batch.revoked = revoked
            }
            return (batch, taken)
        }
    }

    private func notePoll(started: ContinuousClock.Instant, timeout: Duration) {
        let ended = ContinuousClock.now
        pollClock.withLock { $0.note(started: started, ended: ended, timeout: timeout) }
    }

    /// Reads up to `maxMessages` records like `pollBatch`, but copies nothing out of them and returns
    /// only how many there were: for a reader that needs to know how far a topic has been read (a
    /// benchmark measuring a pipe by its output), not what it holds.
    public func skim(maxMessages: Int = 10_000, timeout: Duration = .milliseconds(100)) async throws -> Int {
        let started = ContinuousClock.now
        defer { notePoll(started: started, timeout: timeout) }
        let client = self.client
        return try await client.blocking { handle in
            var count = 0
            if let first = rd_kafka_consumer_poll(handle, timeout.timeoutMilliseconds) {
                if first.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR { count += 1 }
                rd_kafka_message_destroy(first)
            }
            guard count > 0, let queue = client.consumerQueue else { return count }
            let chunk = 1024
            var pointers = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: chunk)
            while count < maxMessages {
                let read = pointers.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_consume_batch_queue(queue, 0, buffer.baseAddress, min(chunk, maxMessages - count))
                }
                guard read > 0 else { break }
                for index in 0..<read {
                    if pointers[index]!.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR { count += 1 }
                    rd_kafka_message_destroy(pointers[index])
                }
            }
            return count
        }
    }

    /// Makes a poll that is waiting return at once (or the next one, if none is waiting): a worker
    /// whose commit has just returned goes on without waiting out the poll's timeout.
    public func wakeup() {
        if let queue = client.consumerQueue { rd_kafka_queue_yield(queue) }
    }

    /// Stops the consumer. By default it leaves the group first (revoking the assignment through the
    /// listener), so that its partitions move at once. With `leavingGroup: false` it stops without a
    /// LeaveGroup and the coordinator expires it after the session timeout, as if it had crashed; the
    /// client then stops when the consumer is released, so drop every reference to it.
    public func close(leavingGroup: Bool = true) async throws {
        guard leavingGroup else {
            client.skipConsumerCloseOnDestroy.store(true, ordering: .releasing)
            return
        }
        try await client.blocking { handle in
            try KafkaError.check(rd_kafka_consumer_close(handle))
        }
    }
}

/// Turns librdkafka's messages into `KafkaConsumerMessage`s during one poll, on the consumer's queue.
private struct MessageReader {
    let client: RDKafkaClient
    /// The client's topic names, taken for the poll and handed back by `finish()`.
    var topics: [TopicHandle: String]

    init(client: RDKafkaClient) {
        self.client = client
        topics = client.topicNames.withLock { names in
            defer { names = [:] }
            return names
        }
    }

    func finish() {
        client.topicNames.withLock { $0.merge(topics) { known, _ in known } }
    }

    mutating func take(_ pointer: UnsafeMutablePointer<rd_kafka_message_t>, into batch: inout KafkaConsumerBatch) throws {
        let message = pointer.pointee
        if message.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            batch.messages.append(KafkaConsumerMessage(copying: pointer, topic: topic(message.rkt)))
        } else if message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            batch.endOfPartition[KafkaTopicPartition(topic: topic(message.rkt), partition: message.partition)] = message.offset
        } else {
            let error = KafkaError(code: message.err, message: rd_kafka_message_errstr(pointer).map { String(cString: $0) })
            if error.kind == .fatal || message.err == RD_KAFKA_RESP_ERR__FATAL { throw error }
            let context = client.context
            if message.err == RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED {
                context.pollIntervalBreaches.add(1, ordering: .relaxed)
                context.logger.warning("consumer error", metadata: ["kafka.error": "\(error)"])
            } else {
                context.logger.info("consumer error", metadata: ["kafka.error": "\(error)"])
            }
        }
    }

    private mutating func topic(_ handle: OpaquePointer?) -> String {
        guard let handle else { return "" }
        let key = TopicHandle(pointer: handle)
        if let known = topics[key] { return known }
        let name = String(cString: rd_kafka_topic_name(handle))
        topics[key] = name
        return name
    }
}

extension KafkaConsumerMessage {
    init(copying pointer: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let message = pointer.pointee
        func bytes(_ base: UnsafeRawPointer?, _ count: Int) -> [UInt8]? {
            guard let base else { return nil }
            return Array(UnsafeRawBufferPointer(start: base, count: count))
        }
        var headers = KafkaHeaders()
        var headerList: OpaquePointer? = nil
        if rd_kafka_message_headers(pointer, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            headers = KafkaHeaders(reservingBytes: 256, count: rd_kafka_header_cnt(headerList))
            var index = 0
            var name: UnsafePointer<CChar>? = nil
            var value: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let nameBytes = UnsafeRawBufferPointer(start: name, count: strlen(name!))
                headers.appendRaw(name: nameBytes, value: value.map { UnsafeRawBufferPointer(start: $0, count: size) })
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        self.init(
            topic: topic,
            partition: message.partition,
            offset: message.offset,
            key: bytes(message.key, message.key_len),
            value: bytes(message.payload, message.len),
            headers: headers,
            timestampMilliseconds: timestamp >= 0 ? timestamp : nil
        )
    }
}
