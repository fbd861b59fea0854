import CRdKafka
import Logging
import Synchronization

/// A producer whose records and consumer offsets are committed atomically.
///
/// Errors carry librdkafka's classes (`KafkaError.Kind`): `.retriable` calls may be repeated,
/// `.abortable` means abort and reprocess from the committed offsets, `.fatal` (for example fenced by a
/// newer producer with the same transactional id) means drop this producer and stop.
/// `withTransaction` takes those paths for you.
public final class KafkaTransactionalProducer: Sendable {
    let producer: KafkaProducer
    public let transactionalID: String
    private let operationTimeout: Duration
    /// The first fatal error any call saw; librdkafka does not always record one itself (see `guarded`).
    private let observedFatalError = Mutex<KafkaError?>(nil)

    var client: RDKafkaClient { producer.client }

    public init(
        configuration: KafkaProducerConfiguration,
        transactionalID: String,
        operationTimeout: Duration = .seconds(30),
        logger: Logger
    ) throws(KafkaError) {
        let client = try RDKafkaClient(
            type: .producer,
            // An output to a topic that does not exist fails in seconds instead of a minute, so that
            // the worker can dead-letter its input instead of waiting.
            config: configuration.config(transactionalID: transactionalID).merging(
                configuration.additional["topic.metadata.propagation.max.ms"] == nil ? ["topic.metadata.propagation.max.ms": "5000"] : [:]
            ),
            logger: logger
        )
        producer = KafkaProducer(client: client)
        self.transactionalID = transactionalID
        self.operationTimeout = operationTimeout
    }

    /// Registers the transactional id with the coordinator, fencing any older producer that used it
    /// and completing or aborting its open transaction.
    public func initTransactions() async throws {
        let timeout = operationTimeout.timeoutMilliseconds
        try await guarded {
            try await client.blocking { handle in
                try KafkaError.check(rd_kafka_init_transactions(handle, timeout))
            }
        }
    }

    public func beginTransaction() throws(KafkaError) {
        if let fatal = fatalError { throw fatal }
        do {
            try KafkaError.check(rd_kafka_begin_transaction(client.handle))
        } catch {
            record(error)
            throw error
        }
    }

    /// Enqueues a record in the open transaction; its delivery is confirmed by `commitTransaction`.
    public func produce(_ message: KafkaProducerMessage) async throws {
        try await client.produce(message, promise: nil)
    }

    /// Produces a record and waits for its acknowledgement (inside the open transaction).
    public func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await producer.send(message)
    }

    /// Adds consumed positions to the transaction. `lastProcessed` holds the offset of the last record
    /// processed per partition; the group commits the next one (the "+1" lives here).
    public func sendOffsets(
        lastProcessed: [KafkaTopicPartition: Int64],
        groupMetadata: KafkaConsumerGroupMetadata
    ) async throws {
        guard !lastProcessed.isEmpty else { return }
        let offsets = lastProcessed.sorted { $0.key < $1.key }.map {
            KafkaTopicPartitionOffset($0.key, offset: KafkaOffset($0.value + 1))
        }
        let timeout = operationTimeout.timeoutMilliseconds
        try await guarded {
            try await client.blocking { handle in
                let list = RDKafkaTopicPartitionList(offsets)
                try groupMetadata.withPointer { metadata in
                    try KafkaError.check(
                        list.withPointer { rd_kafka_send_offsets_to_transaction(handle, $0, metadata, timeout) }
                    )
                }
            }
        }
    }

    public func commitTransaction() async throws {
        try await guardedCommit(timeout: operationTimeout)
    }

    func guardedCommit(timeout: Duration) async throws {
        let timeout = timeout.timeoutMilliseconds
        try await guarded {
            try await client.blocking { handle in
                try KafkaError.check(rd_kafka_commit_transaction(handle, timeout))
            }
        }
        forgetDeliveryFailures()
    }

    public func abortTransaction() async throws {
        try await abortTransaction(timeout: operationTimeout)
    }

    func abortTransaction(timeout: Duration) async throws {
        let timeout = timeout.timeoutMilliseconds
        try await guarded {
            try await client.blocking { handle in
                try KafkaError.check(rd_kafka_abort_transaction(handle, timeout))
            }
        }
        forgetDeliveryFailures()
    }

    /// Inside a transaction the commit reports failed deliveries; an abort purges the rest on purpose.
    /// Neither must resurface in a later `flush`.
    private func forgetDeliveryFailures() {
        client.context.failedDeliveries.withLock { $0.removeAll() }
    }

    /// Runs `body` inside a transaction and commits it.
    ///
    /// - A retriable commit or abort is retried up to `retries` times; a commit still timing out after
    ///   that throws `KafkaTransactionOutcomeUnknown` without aborting.
    /// - If `body` throws, or the commit needs an abort, the transaction is aborted and the error is
    ///   rethrown (an abortable commit failure as a `KafkaError` of kind `.abortable`): the caller
    ///   reprocesses from the last committed offsets.
    /// - A fatal error is rethrown as it is: the producer is unusable.
    public func withTransaction<T: Sendable>(
        retries: Int = 3,
        _ body: (KafkaTransactionalProducer) async throws -> T
    ) async throws -> T {
        try beginTransaction()
        let result: T
        do {
            result = try await body(self)
        } catch {
            try await abortAfterFailure(retries: retries)
            throw error
        }
        var attempt = 0
        while true {
            do {
                try await commitTransaction()
                return result
            } catch let error as KafkaError where error.kind == .retriable && attempt < retries {
                attempt += 1
                client.logger.info("retrying transaction commit", metadata: ["kafka.error": "\(error)"])
            } catch let error as KafkaError where error.kind == .retriable {
                // Past the retries the outcome is unknown: the commit may still complete, and librdkafka
                // refuses an abort now. The caller must replace this producer and not roll back.
                throw KafkaTransactionOutcomeUnknown(underlying: error)
            } catch let error as KafkaError where error.kind != .fatal {
                // Abortable, or retriable past its retries: never leave the transaction open.
                try await abortAfterFailure(retries: retries)
                throw error
            }
        }
    }

    private func abortAfterFailure(retries: Int) async throws {
        var attempt = 0
        while true {
            do {
                try await abortTransaction()
                return
            } catch let error as KafkaError where error.kind == .retriable && attempt < retries {
                attempt += 1
            } catch let error as KafkaError where error.kind == .invalidState {
                // No transaction was in progress (for example begin itself failed): nothing to abort.
                client.logger.debug("nothing to abort", metadata: ["kafka.error": "\(error)"])
                return
            }
        }
    }

    /// The error that made this producer unusable, if any (for example after being fenced).
    public var fatalError: KafkaError? { observedFatalError.withLock { $0 } ?? client.fatalError() }

    /// Runs a transactional call, refusing it once the producer is known to be fatal and remembering
    /// a fatal outcome: some brokers report fencing only on a produce request, which librdkafka treats
    /// as abortable and never turns into its own fatal state.
    private func guarded<T>(_ body: () async throws -> T) async throws -> T {
        if let fatal = fatalError { throw fatal }
        do {
            return try await body()
        } catch let error as KafkaError {
            record(error)
            throw error
        }
    }

    private func record(_ error: KafkaError) {
        guard error.kind == .fatal else { return }
        observedFatalError.withLock { if $0 == nil { $0 = error } }
    }

    /// Flushes and stops serving callbacks.
    public func close(timeout: Duration = .seconds(10)) async throws {
        try await producer.close(timeout: timeout)
    }
}

/// A commit that neither completed nor failed within its retries: it may still complete. Replace the
/// producer (a new one under the same transactional id ends what is still open) and roll nothing back.
public struct KafkaTransactionOutcomeUnknown: Error, CustomStringConvertible, Sendable {
    public var underlying: KafkaError
    public var description: String { "transaction outcome unknown: \(underlying)" }
}
