/// The handful of Kafka requests that librdkafka does not let a client make on its own behalf: read
/// which producer epoch last wrote to a partition, and end that epoch's transaction (see
/// `KafkaEpochRepair`). Plaintext only, one broker connection, no retries: callers treat every failure
/// as "could not", never as an answer. Blocking: use it through `with`, off the cooperative pool.
package final class KafkaWireClient {
    package struct ErrorCode: Error, Equatable, CustomStringConvertible {
        package let code: Int16
        package let request: String
        package var description: String { "\(request) answered error \(code)" }
    }

    private var connection: KafkaWireConnection
    private let clientID: String
    private let timeout: Duration

    private static let executor = BlockingExecutor(label: "souk.kafka.wire")

    /// Runs `body` with a client connected to one of `servers`, on the wire's own queue.
    package static func with<T: Sendable>(
        servers: String, timeout: Duration, _ body: @escaping @Sendable (KafkaWireClient) throws -> T
    ) async throws -> T {
        try await executor.run { try body(KafkaWireClient(servers: servers, timeout: timeout)) }
    }

    package init(servers: String, clientID: String = "souk-wire", timeout: Duration) throws {
        connection = try KafkaWireConnection(servers: servers, clientID: clientID, timeout: timeout)
        self.clientID = clientID
        self.timeout = timeout
    }

    /// Connects to the transaction coordinator of `transactionalID` (FindCoordinator v1).
    package func connectToCoordinator(of transactionalID: String) throws {
        var body = KafkaWireWriter()
        body.string(transactionalID)
        body.int8(1)  // transaction coordinator
        var response = try connection.request(apiKey: 10, version: 1, body: body)
        _ = try response.int32()  // throttle
        let error = try response.int16()
        _ = try response.nullableString()
        guard error == 0 else { throw ErrorCode(code: error, request: "FindCoordinator") }
        _ = try response.int32()  // node id
        let coordinator = "\(try response.string()):\(try response.int32())"
        guard coordinator != connection.address else { return }
        connection = try KafkaWireConnection(servers: coordinator, clientID: clientID, timeout: timeout)
    }

    /// The latest offset of a partition (ListOffsets v1, timestamp -1).
    package func latestOffset(_ partition: KafkaTopicPartition) throws -> Int64 {
        var body = KafkaWireWriter()
        body.int32(-1)  // replica id: a consumer
        body.onePartition(partition) { writer in writer.int64(-1) }  // latest
        var response = try connection.request(apiKey: 2, version: 1, body: body)
        return try response.onePartition(of: "ListOffsets") { partition in
            _ = try partition.int64()  // timestamp
            return try partition.int64()
        }
    }

    /// What a fetch read uncommitted (Fetch v4): the partition's positions and the heads of the
    /// batches from the one holding `offset` on.
    package struct Fetched {
        package var highWatermark: Int64
        package var lastStableOffset: Int64
        package var batches: [KafkaRecordBatchHeader]
        /// The records field as the broker sent it (batches, the last one possibly cut short).
        package var records: [UInt8]
    }

    package func fetch(_ partition: KafkaTopicPartition, from offset: Int64, maxBytes: Int32 = 1 << 16) throws -> Fetched {
        var body = KafkaWireWriter()
        body.int32(-1)  // replica id
        // Tansu answers a fetch with no wait before reading any partition: wait a little, which a
        // partition holding records at `offset` cuts short.
        body.int32(500)  // max wait
        body.int32(1)  // min bytes
        body.int32(maxBytes)
        body.int8(0)  // read uncommitted: the records of open and ended transactions alike
        body.onePartition(partition) { writer in
            writer.int64(offset)
            writer.int32(maxBytes)
        }
        var response = try connection.request(apiKey: 1, version: 4, body: body)
        _ = try response.int32()  // throttle
        return try response.onePartition(of: "Fetch") { partition in
            let highWatermark = try partition.int64()
            let lastStable = try partition.int64()
            _ = try partition.array { aborted in (try aborted.int64(), try aborted.int64()) }
            let records = try partition.nullableBytes() ?? []
            return Fetched(
                highWatermark: highWatermark, lastStableOffset: lastStable, batches: KafkaRecordBatchHeader.headers(in: records), records: records
            )
        }
    }

    /// Adds a partition to the transaction of an epoch (AddPartitionsToTxn v1).
    package func addPartition(transactionalID: String, producerID: Int64, epoch: Int16, _ partition: KafkaTopicPartition) throws {
        var body = KafkaWireWriter()
        body.string(transactionalID)
        body.int64(producerID)
        body.int16(epoch)
        body.onePartition(partition) { _ in }
        var response = try connection.request(apiKey: 24, version: 1, body: body)
        _ = try response.int32()  // throttle
        try response.onePartition(of: "AddPartitionsToTxn") { _ in }
    }

    /// Ends the transaction of an epoch (EndTxn v1).
    package func endTransaction(transactionalID: String, producerID: Int64, epoch: Int16, commit: Bool) throws {
        var body = KafkaWireWriter()
        body.string(transactionalID)
        body.int64(producerID)
        body.int16(epoch)
        body.bool(commit)
        var response = try connection.request(apiKey: 26, version: 1, body: body)
        _ = try response.int32()  // throttle
        let error = try response.int16()
        guard error == 0 else { throw ErrorCode(code: error, request: "EndTxn") }
    }

    /// Produces one prepared record batch (Produce v3, acks all): the base offset it got.
    package func produce(transactionalID: String?, _ partition: KafkaTopicPartition, batch: [UInt8]) throws -> Int64 {
        var body = KafkaWireWriter()
        body.nullableString(transactionalID)
        body.int16(-1)  // acks: all
        body.int32(timeout.timeoutMilliseconds)
        body.onePartition(partition) { writer in writer.bytesField(batch) }
        var response = try connection.request(apiKey: 0, version: 3, body: body)
        return try response.onePartition(of: "Produce") { partition in
            let offset = try partition.int64()
            _ = try partition.int64()  // log append time
            return offset
        }
    }
}
