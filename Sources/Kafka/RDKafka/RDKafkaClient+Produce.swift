import CRdKafka

extension RDKafkaClient {
    /// Enqueues one record; librdkafka copies the bytes. `promise` is completed by the delivery callback.
    /// Returns `false` when the local queue is full, so the caller can wait and retry.
    func enqueue(_ message: KafkaProducerMessage, promise: DeliveryPromise?, tag: DeliveryTag? = nil) throws(KafkaError) -> Bool {
        guard let topic = topicHandle(message.topic) else {
            throw KafkaError(kind: .failed, codeName: "_INVALID_ARG", message: "no topic handle for '\(message.topic)'")
        }
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            let list = rd_kafka_headers_new(message.headers.count)
            message.headers.forEachRaw { name, value in
                _ = name.withMemoryRebound(to: CChar.self) { name in
                    // An empty value is not a null one: it needs an address all the same.
                    rd_kafka_header_add(list, name.baseAddress, name.count, value.map { $0.baseAddress ?? emptyValue }, value?.count ?? 0)
                }
            }
            headers = list
        }
        let opaque = promise.map { Unmanaged.passRetained($0).toOpaque() } ?? tag?.opaque
        let code = message.key.withOptionalBytes { key in
            message.value.withOptionalBytes { value in
                souk_rd_kafka_produce(
                    handle,
                    topic,
                    message.partition ?? -1,  // RD_KAFKA_PARTITION_UA: let the partitioner choose
                    key.baseAddress,
                    key.count,
                    value.baseAddress,
                    value.count,
                    headers,
                    opaque
                )
            }
        }
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return true }
        if let headers { rd_kafka_headers_destroy(headers) }
        if let promise { Unmanaged.passUnretained(promise).release() }
        if code == RD_KAFKA_RESP_ERR__QUEUE_FULL { return false }
        throw KafkaError(code: code)
    }

    /// Enqueues, waiting briefly while the local queue is full instead of failing.
    func produce(_ message: KafkaProducerMessage, promise: DeliveryPromise?) async throws {
        while try !enqueue(message, promise: promise) {
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Waits until every enqueued record is delivered, then reports fire-and-forget failures.
    func flush(timeout: Duration) async throws {
        try await blocking { handle in
            try KafkaError.check(rd_kafka_flush(handle, timeout.timeoutMilliseconds))
        }
        let failures = context.failedDeliveries.withLock { failures in
            defer { failures.removeAll() }
            return failures
        }
        if let first = failures.first { throw first }
    }
}

/// Where an empty header value points.
nonisolated(unsafe) private let emptyValue = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

extension Optional where Wrapped == [UInt8] {
    func withOptionalBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .some(let bytes): try bytes.withUnsafeBytes(body)
        case .none: try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }
}
