import CRdKafka

extension RDKafkaClient {
    /// Enqueues one record; librdkafka copies the bytes. `promise` is completed by the delivery callback.
    /// Returns `false` when the local queue is full, so the caller can wait and retry.
    func enqueue(_ message: KafkaProducerMessage, promise: DeliveryPromise?, tag: DeliveryTag? = nil) throws(KafkaError) -> Bool {
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    value.withUnsafeBytes { bytes in
                        _ = rd_kafka_header_add(headers, header.key, -1, bytes.baseAddress, bytes.count)
                    }
                } else {
                    rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let opaque = promise.map { Unmanaged.passRetained($0).toOpaque() } ?? tag?.opaque
        let code = message.key.withOptionalBytes { key in
            message.value.withOptionalBytes { value in
                souk_rd_kafka_produce(
                    handle,
                    message.topic,
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

extension Optional where Wrapped == [UInt8] {
    func withOptionalBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .some(let bytes): try bytes.withUnsafeBytes(body)
        case .none: try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }
}
