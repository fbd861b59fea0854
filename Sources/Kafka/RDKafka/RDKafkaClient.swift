import CRdKafka
import Dispatch
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and the context its C callbacks reach through librdkafka's opaque pointer.
///
/// Only this module sees it; the public clients wrap one each and expose Swift values.
final class RDKafkaClient: @unchecked Sendable {
    enum ClientType {
        case producer, consumer
    }

    /// `@unchecked` because `handle` is only an address: librdkafka's API is thread-safe for the calls
    /// made on it, and the pointer is destroyed once, in `deinit`.
    let handle: OpaquePointer
    let context: RDKafkaClientContext
    let executor: BlockingExecutor
    let logger: Logger

    init(
        type: ClientType,
        config: KafkaConfig,
        logger: Logger,
        rebalanceListener: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil,
        pauseOnAssign: Bool = false
    ) throws(KafkaError) {
        let conf = rd_kafka_conf_new()!
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in config.properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw .configuration(String(cBuffer: errorBuffer))
            }
        }
        let context = RDKafkaClientContext(logger: logger, rebalanceListener: rebalanceListener, pauseOnAssign: pauseOnAssign)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdKafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdKafkaErrorCallback)
        switch type {
        case .producer:
            rd_kafka_conf_set_dr_msg_cb(conf, rdKafkaDeliveryCallback)
        case .consumer:
            rd_kafka_conf_set_rebalance_cb(conf, rdKafkaRebalanceCallback)
        }
        // On success rd_kafka_new owns conf; on failure the caller still does.
        guard
            let handle = rd_kafka_new(
                type == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER,
                conf,
                &errorBuffer,
                errorBuffer.count
            )
        else {
            rd_kafka_conf_destroy(conf)
            throw .configuration(String(cBuffer: errorBuffer))
        }
        self.handle = handle
        self.context = context
        self.logger = logger
        let name = String(cString: rd_kafka_name(handle))
        self.executor = BlockingExecutor(label: "souk.kafka.\(name)")
        // A consumer without a group has no consumer queue: it reads one record per call then.
        consumerQueue = type == .consumer ? rd_kafka_queue_get_consumer(handle) : nil
    }

    /// A consumer's queue (nil for a producer, or a consumer without a group): batches are read from it.
    let consumerQueue: OpaquePointer?

    /// Topic handles by name, made once per topic: producing by handle spares librdkafka a lookup
    /// of the topic by name (a scan under a lock) per record.
    private let topicHandles = Mutex<[String: TopicHandle]>([:])

    /// Topic names by handle, read once per topic: a consumed record's topic is then shared, not
    /// copied out of librdkafka per record.
    let topicNames = Mutex<[TopicHandle: String]>([:])

    func topicHandle(_ topic: String) -> OpaquePointer? {
        topicHandles.withLock { handles in
            if let known = handles[topic] { return known.pointer }
            guard let created = rd_kafka_topic_new(handle, topic, nil) else { return nil }
            handles[topic] = TopicHandle(pointer: created)
            return created
        }
    }

    /// Set when a consumer stops without leaving its group (see `KafkaConsumer.close(leavingGroup:)`).
    let skipConsumerCloseOnDestroy = Atomic<Bool>(false)

    deinit {
        // Destroying waits for librdkafka's threads (and a consumer's close): never on the cooperative
        // pool, where the last reference is often dropped. The context lives until the handle is gone.
        let doomed = DoomedHandle(
            handle: handle, context: context, consumerQueue: consumerQueue, topics: topicHandles.withLock { $0.values.map(\.pointer) }
        )
        let flags = skipConsumerCloseOnDestroy.load(ordering: .acquiring) ? Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE) : 0
        RDKafkaClient.destroyer.async {
            // Every reference the application holds goes before the handle.
            for topic in doomed.topics { rd_kafka_topic_destroy(topic) }
            if let queue = doomed.consumerQueue { rd_kafka_queue_destroy(queue) }
            rd_kafka_destroy_flags(doomed.handle, flags)
            withExtendedLifetime(doomed.context) {}
        }
    }

    /// A handle on its way to `rd_kafka_destroy`: nothing else references it any more.
    private struct DoomedHandle: @unchecked Sendable {
        let handle: OpaquePointer
        let context: RDKafkaClientContext
        let consumerQueue: OpaquePointer?
        let topics: [OpaquePointer]
    }

    /// Where handles are destroyed, off the cooperative pool.
    private static let destroyer = DispatchQueue(label: "souk.kafka.destroy", attributes: .concurrent)

    /// Runs `body` with the handle on this client's own queue.
    func blocking<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await executor.run { [self] in try body(self.handle) }
    }

    /// The error that made the client unusable, if any.
    func fatalError() -> KafkaError? {
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &buffer, buffer.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var error = KafkaError(code: code, message: String(cBuffer: buffer))
        error.kind = .fatal
        return error
    }
}

/// What the C callbacks of one client need; reached through `rd_kafka_opaque`.
final class RDKafkaClientContext: Sendable {
    let logger: Logger
    let rebalanceListener: (@Sendable (KafkaRebalanceEvent) -> Void)?
    /// Errors of fire-and-forget deliveries, reported by the next `flush`.
    let failedDeliveries = Mutex<[KafkaError]>([])
    /// Partitions revoked during the current poll, so that a batch never spans a lost partition.
    let revokedDuringPoll = Mutex<Set<KafkaTopicPartition>?>(nil)
    /// Newly assigned partitions start paused (until their owner resumes them, e.g. after a restore).
    let pauseOnAssign: Bool
    /// Failed deliveries of records produced with a tag (`DeliveryTag`), by tag: no allocation per record.
    let taggedFailures = Mutex<[(tag: Int, error: KafkaError)]>([])
    /// The first failure of a call made in the background (`KafkaTransactionalProducer.produceInBackground`),
    /// with the tag of the record refused, if a record was.
    let backgroundFailure = Mutex<(tag: Int?, error: KafkaError)?>(nil)
    /// `_MAX_POLL_EXCEEDED` reports seen by this consumer.
    let pollIntervalBreaches = Atomic<Int>(0)

    init(logger: Logger, rebalanceListener: (@Sendable (KafkaRebalanceEvent) -> Void)?, pauseOnAssign: Bool = false) {
        self.logger = logger
        self.rebalanceListener = rebalanceListener
        self.pauseOnAssign = pauseOnAssign
    }

    static func from(_ handle: OpaquePointer?) -> RDKafkaClientContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

// MARK: - C callbacks (no captures: everything comes through the opaque pointers)

private let rdKafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, message in
    guard let context = RDKafkaClientContext.from(handle), let message else { return }
    // syslog levels: 0 emergency … 7 debug. A library logs at info or below except real failures.
    let swiftLevel: Logger.Level =
        switch level {
        case 0...3: .error
        case 4: .warning
        case 5, 6: .info
        default: .debug
        }
    context.logger.log(
        level: swiftLevel,
        "\(String(cString: message))",
        metadata: ["kafka.facility": .string(facility.map { String(cString: $0) } ?? "")]
    )
}

private let rdKafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    handle, code, reason, _ in
    guard let context = RDKafkaClientContext.from(handle) else { return }
    let error = KafkaError(code: rd_kafka_resp_err_t(code), message: reason.map { String(cString: $0) })
    // Transport errors are routine (reconnects); librdkafka retries them itself.
    let level: Logger.Level = error.kind == .fatal ? .error : .info
    context.logger.log(level: level, "librdkafka error", metadata: ["kafka.error": .string(error.description)])
}

private let rdKafkaDeliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    handle, message, _ in
    guard let message else { return }
    let report = message.pointee
    if report.err == RD_KAFKA_RESP_ERR_NO_ERROR, let opaque = report._private, DeliveryTag(opaque: opaque) != nil { return }
    if report.err == RD_KAFKA_RESP_ERR_NO_ERROR, report._private == nil { return }
    let result: Result<KafkaDeliveryReport, KafkaError>
    if report.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        result = .success(
            KafkaDeliveryReport(
                topic: String(cString: rd_kafka_topic_name(report.rkt)),
                partition: report.partition,
                offset: report.offset
            )
        )
    } else {
        result = .failure(KafkaError(code: report.err))
    }
    if let opaque = report._private, let tag = DeliveryTag(opaque: opaque) {
        if case .failure(let error) = result, let context = RDKafkaClientContext.from(handle) {
            context.taggedFailures.withLock { $0.append((tag.value, error)) }
        }
    } else if let promise = report._private {
        Unmanaged<DeliveryPromise>.fromOpaque(promise).takeRetainedValue().fulfil(result)
    } else if case .failure(let error) = result, let context = RDKafkaClientContext.from(handle) {
        context.failedDeliveries.withLock { $0.append(error) }
    }
}

private let rdKafkaRebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { handle, code, partitions, _ in
    guard let handle, let partitions, let context = RDKafkaClientContext.from(handle) else { return }
    let list = RDKafkaTopicPartitionList(borrowing: partitions).partitions
    let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
    switch code {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            if let error = rd_kafka_incremental_assign(handle, partitions) {
                context.logger.error("assign failed", metadata: ["kafka.error": "\(KafkaError(consuming: error))"])
            }
        } else {
            let code = rd_kafka_assign(handle, partitions)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                context.logger.error("assign failed", metadata: ["kafka.error": "\(KafkaError(code: code))"])
            }
        }
        if context.pauseOnAssign {
            let code = rd_kafka_pause_partitions(handle, partitions)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                context.logger.error("pause failed", metadata: ["kafka.error": "\(KafkaError(code: code))"])
            }
        }
        context.rebalanceListener?(.assigned(list, cooperative: cooperative))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        // The listener runs before the partitions go, so it can still finish work on them.
        context.rebalanceListener?(.revoked(list, cooperative: cooperative))
        context.revokedDuringPoll.withLock { revoked in revoked?.formUnion(list) }
        if cooperative {
            if let error = rd_kafka_incremental_unassign(handle, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(handle, nil)
        }
    default:
        context.logger.warning("rebalance error", metadata: ["kafka.error": "\(KafkaError(code: code))"])
        context.revokedDuringPoll.withLock { revoked in revoked?.formUnion(list) }
        rd_kafka_assign(handle, nil)
    }
}

/// Completes one `send`'s continuation from the delivery callback.
final class DeliveryPromise: Sendable {
    private let continuation: CheckedContinuation<KafkaDeliveryReport, any Error>

    init(_ continuation: CheckedContinuation<KafkaDeliveryReport, any Error>) {
        self.continuation = continuation
    }

    func fulfil(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        continuation.resume(with: result.mapError { $0 as any Error })
    }
}

/// A librdkafka topic handle: only an address, valid while its client lives.
struct TopicHandle: Hashable, @unchecked Sendable {
    let pointer: OpaquePointer
}

extension String {
    /// Reads a NUL-terminated C string out of a fixed-size buffer that librdkafka filled.
    init(cBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A small integer carried in a produced record's opaque pointer instead of an object: the low bit
/// marks it (object pointers are aligned, so theirs is 0), and its delivery report allocates nothing.
struct DeliveryTag: Sendable, Equatable {
    var value: Int

    init(_ value: Int) { self.value = value }

    init?(opaque: UnsafeMutableRawPointer) {
        let bits = Int(bitPattern: opaque)
        guard bits & 1 == 1 else { return nil }
        value = bits >> 1
    }

    var opaque: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: (value << 1) | 1)! }
}
