import CRdKafka

/// The one error type of the Kafka module.
///
/// Every failure reported by librdkafka passes through one of the internal `init`s below, so the
/// classification a caller acts on (retry, abort, stop) is decided in one place.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What a caller should do about the error: librdkafka's transactional error classes.
    public enum Kind: String, Sendable, Hashable {
        /// The call may be retried as it is (for example a commit that timed out).
        case retriable
        /// The transaction must be aborted; processing resumes from the last committed offsets.
        case abortable
        /// The client is unusable (for example fenced by a newer instance): drop it and stop.
        case fatal
        /// Any other error: the call failed and retrying it is not expected to help.
        case failed
        /// The client was used after it was closed, or in a state that does not allow the call.
        case invalidState
        /// A configuration property was rejected.
        case configuration
    }

    public var kind: Kind
    /// librdkafka's `rd_kafka_resp_err_t` value (negative for client-side errors).
    public var code: Int32
    /// librdkafka's symbolic name of `code`, e.g. `_TIMED_OUT` or `PRODUCER_FENCED`.
    public var codeName: String
    public var message: String

    public init(kind: Kind, code: Int32 = 0, codeName: String = "", message: String) {
        self.kind = kind
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String {
        codeName.isEmpty ? "Kafka \(kind): \(message)" : "Kafka \(kind) \(codeName): \(message)"
    }

    public var isRetriable: Bool { kind == .retriable }
    public var requiresAbort: Bool { kind == .abortable }
    public var isFatal: Bool { kind == .fatal }

    /// Errors that mean another instance with the same transactional id took over.
    public var isFencing: Bool {
        kind == .fatal
            && (code == RD_KAFKA_RESP_ERR__FENCED.rawValue || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED.rawValue
                || code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH.rawValue)
    }

    static func invalidState(_ message: String) -> KafkaError {
        KafkaError(kind: .invalidState, message: message)
    }

    static func configuration(_ message: String) -> KafkaError {
        KafkaError(kind: .configuration, message: message)
    }
}

// MARK: - The funnel from librdkafka's error representations

extension KafkaError {
    /// Classifies a plain response code, the form most non-transactional calls return.
    init(code: rd_kafka_resp_err_t, message: String? = nil) {
        let name = String(cString: rd_kafka_err2name(code))
        let text = message ?? String(cString: rd_kafka_err2str(code))
        self.init(kind: KafkaError.classify(code: code), code: code.rawValue, codeName: name, message: text)
    }

    /// Takes ownership of an `rd_kafka_error_t`, which carries librdkafka's own classification.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        let kind: Kind
        // Fencing is fatal whatever flags librdkafka set: when a broker reports PRODUCER_FENCED on a
        // produce request, librdkafka marks it abortable, but the producer can never commit again.
        if rd_kafka_error_is_fatal(error) != 0 || KafkaError.classify(code: code) == .fatal {
            kind = .fatal
        } else if rd_kafka_error_txn_requires_abort(error) != 0 {
            kind = .abortable
        } else if rd_kafka_error_is_retriable(error) != 0 {
            kind = .retriable
        } else {
            kind = .failed
        }
        self.init(
            kind: kind,
            code: code.rawValue,
            codeName: String(cString: rd_kafka_error_name(error)),
            message: String(cString: rd_kafka_error_string(error))
        )
    }

    /// Classification for bare codes, which carry no transactional flags of their own.
    static func classify(code: rd_kafka_resp_err_t) -> Kind {
        switch code {
        case RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR__FATAL,
            RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            return .fatal
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
            return .retriable
        case RD_KAFKA_RESP_ERR__STATE:
            return .invalidState
        default:
            return .failed
        }
    }

    /// Turns librdkafka's "returns NULL or an error object" convention into a Swift throw.
    static func check(_ error: OpaquePointer?) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error) }
    }

    static func check(_ code: rd_kafka_resp_err_t, _ message: @autoclosure () -> String? = nil) throws(KafkaError) {
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: code, message: message()) }
    }
}
