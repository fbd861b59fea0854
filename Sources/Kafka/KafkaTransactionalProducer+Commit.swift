import CRdKafka

/// How a commit ended, as far as this client can tell.
public enum KafkaCommitOutcome: Sendable {
    case committed
    /// The transaction was aborted (its records are void); the producer may still be usable.
    case aborted(KafkaError)
    /// Neither a commit nor an abort can be confirmed (timed out past the retries, an abort that
    /// failed): the transaction may still complete. Nothing may be rolled back on the strength of it,
    /// and the producer must be replaced.
    case unknown(KafkaError)
    /// The producer is unusable (fenced by a newer owner of its transactional id).
    case fatal(KafkaError)
}

extension KafkaTransactionalProducer {
    /// Begins a transaction on the producer's own queue (librdkafka may wait for its state lock).
    public func begin() async throws {
        if let fatal = fatalError { throw fatal }
        try await client.blocking { handle in
            try KafkaError.check(rd_kafka_begin_transaction(handle))
        }
    }

    /// Enqueues a record in the open transaction under a tag; a delivery that fails is reported by
    /// `takeFailedDeliveries()` with it. A record refused at once (too large, say) throws here.
    public func produce(_ message: KafkaProducerMessage, tag: Int) async throws {
        while try !enqueue(message, tag: tag) {
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// `produce(_:tag:)` without waiting: `false` when librdkafka's queue is full (nothing was enqueued).
    public func enqueue(_ message: KafkaProducerMessage, tag: Int) throws(KafkaError) -> Bool {
        try client.enqueue(message, promise: nil, tag: DeliveryTag(tag))
    }

    /// Begins a transaction first (when `beginning`), then enqueues `messages` under the tags from
    /// `firstTag` on, on the producer's own thread, in order with every other call on it: the caller
    /// does not wait. The first failure (the tag of a record refused at once, or a begin that failed)
    /// is kept, nothing more is enqueued after it, and `takeBackgroundFailure()` reports it: call that
    /// after a call that ran behind these (`sendOffsets`), before committing.
    public func produceInBackground(_ messages: [KafkaProducerMessage], firstTag: Int, beginning: Bool) {
        let client = self.client
        client.executor.start {
            let context = client.context
            if context.backgroundFailure.withLock({ $0 != nil }) { return }
            do {
                if beginning { try KafkaError.check(rd_kafka_begin_transaction(client.handle)) }
            } catch {
                let error = error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)")
                context.backgroundFailure.withLock { $0 = (nil, error) }
                return
            }
            var tag = firstTag
            for message in messages {
                do {
                    // A full local queue drains as the broker acknowledges (the poller serves the reports).
                    while try !client.enqueue(message, promise: nil, tag: DeliveryTag(tag)) { rd_kafka_flush(client.handle, 5) }
                } catch {
                    let error = error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)")
                    context.backgroundFailure.withLock { $0 = (tag, error) }
                    return
                }
                tag += 1
            }
        }
    }

    /// The first failure of `produceInBackground` since the last call, if any.
    public func takeBackgroundFailure() -> (tag: Int?, error: KafkaError)? {
        client.context.backgroundFailure.withLock { failure in
            defer { failure = nil }
            return failure
        }
    }

    /// Records enqueued or in flight that the broker has not acknowledged yet (and events not served).
    public var unacknowledgedRecords: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// The tagged records whose delivery failed since the last call, with why.
    public func takeFailedDeliveries() -> [(tag: Int, error: KafkaError)] {
        client.context.taggedFailures.withLock { failures in
            defer { failures.removeAll() }
            return failures
        }
    }

    /// Commits the open transaction, repeating a commit that timed out (librdkafka resumes it) until
    /// `bound` has passed. An abortable failure is aborted here. Never aborts after a commit whose
    /// outcome is unknown: librdkafka refuses that (`_CONFLICT`) and the commit may still complete.
    public func commit(bound: Duration = .seconds(30)) async -> KafkaCommitOutcome {
        let deadline = ContinuousClock.now + bound
        while true {
            let attempt = max(.milliseconds(100), min(.seconds(10), deadline - .now))
            do {
                try await guardedCommit(timeout: attempt)
                return .committed
            } catch let error as KafkaError {
                switch error.kind {
                case .fatal: return .fatal(error)
                case .abortable:
                    do {
                        try await abort(bound: max(.seconds(1), deadline - .now))
                        return .aborted(error)
                    } catch let abortError as KafkaError where abortError.kind == .fatal {
                        return .fatal(abortError)
                    } catch {
                        return .unknown(error as? KafkaError ?? KafkaError(kind: .failed, message: "\(error)"))
                    }
                case .retriable where ContinuousClock.now < deadline: continue
                default: return .unknown(error)
                }
            } catch {
                return .unknown(KafkaError(kind: .failed, message: "\(error)"))
            }
        }
    }

    /// Aborts the open transaction, repeating an abort that timed out until `bound` has passed.
    public func abort(bound: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + bound
        while true {
            do {
                try await abortTransaction(timeout: max(.milliseconds(100), min(.seconds(10), deadline - .now)))
                return
            } catch let error as KafkaError where error.kind == .retriable && ContinuousClock.now < deadline {
                continue
            } catch let error as KafkaError where error.kind == .invalidState && error.code == RD_KAFKA_RESP_ERR__STATE.rawValue {
                // No transaction in progress (begin itself failed): nothing to abort.
                return
            }
        }
    }
}

extension KafkaTransactionalProducer {
    /// Commits one more transaction holding `marker` alone, so that the producer's epoch ends with a
    /// transaction that it began and finished itself. Returns whether that commit succeeded; a
    /// producer that cannot (fenced, in a failed state) is left as it was.
    ///
    /// On the local broker `EndTxn` marks a transaction prepared and only then writes its control
    /// markers; when another producer's `EndTxn` finishes the transaction in between, the markers
    /// that follow are recorded against the finished epoch, and that epoch from then on counts as an
    /// unprepared transaction overlapping every later one on those partitions, whoever writes them.
    /// Only a later transaction of the same epoch clears it (its `AddPartitions` reopens the epoch,
    /// its end rewrites and clears every recorded range): a producer given up right after such a
    /// commit would leave its partitions pinned for the broker's life. On Apache Kafka this is one
    /// cheap transaction per producer given up.
    public func seal(with marker: KafkaProducerMessage, bound: Duration) async -> Bool {
        guard fatalError == nil, (try? await begin()) != nil else { return false }
        do {
            try await produce(marker, tag: 0)
        } catch {
            try? await abort(bound: bound)
            return false
        }
        if case .committed = await commit(bound: bound) { return true }
        return false
    }

    /// Gives the producer up: records not yet sent are purged, records already sent are waited for
    /// (up to `inFlightBound`), and its open transaction is left to the next producer under the same
    /// id, whose initialisation ends it.
    ///
    /// Waiting matters on the local broker: it records a produce request against the epoch the
    /// request names, even one that the next producer's initialisation has already ended, and an
    /// ended transaction that gains records counts as open and unprepared for good: no later
    /// transaction of the id (nor one overlapping it on those partitions) can complete again.
    public func discard(inFlightBound: Duration = .seconds(10)) async {
        let queued = Int32(RD_KAFKA_PURGE_F_QUEUE)
        let milliseconds = inFlightBound.timeoutMilliseconds
        _ = try? await client.blocking { handle in
            rd_kafka_purge(handle, queued)
            return rd_kafka_flush(handle, milliseconds)
        }
        producer.stopPolling()
    }
}
