import Foundation
import Kafka
import Testing
import TestSupport

/// Exactly-once building blocks against the real broker. The local broker delivers records of aborted
/// transactions to `read_committed` readers (see INFRA.md), so these tests assert committed offsets
/// and the output of committed transactions, not the absence of aborted records.
@Suite(.serialized) struct TransactionTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    func transactionalProducer(_ id: String) async throws -> KafkaTransactionalProducer {
        let producer = try KafkaTransactionalProducer(
            configuration: stack.producerConfiguration(),
            transactionalID: id,
            logger: stack.logger
        )
        try await producer.initTransactions()
        return producer
    }

    /// Writes `count` numbered records to `topic` (partition 0).
    func seed(_ topic: String, count: Int) async throws {
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        for index in 0..<count {
            try await producer.produce(KafkaProducerMessage(topic: topic, partition: 0, key: "k\(index)", value: "\(index)"))
        }
        try await producer.close()
    }

    @Test func committedTransactionIsVisibleWithItsOffsets() async throws {
        let input = try await stack.freshTopic("txn-in")
        let output = try await stack.freshTopic("txn-out")
        try await seed(input, count: 5)
        let group = uniqueName("txn")
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await consumer.subscribe(topics: [input])
        let batch = try await consume(consumer) { $0.count >= 5 }
        let producer = try await transactionalProducer(uniqueName("tid"))
        try await producer.withTransaction { txn in
            for message in batch {
                try await txn.produce(KafkaProducerMessage(topic: output, key: message.keyString, value: "doubled-\(Int(message.valueString!)! * 2)"))
            }
            try await txn.sendOffsets(lastProcessed: [KafkaTopicPartition(topic: input, partition: 0): batch.last!.offset], groupMetadata: consumer.groupMetadata())
        }
        let partition = KafkaTopicPartition(topic: input, partition: 0)
        try await eventually("the offsets are committed with the transaction") {
            try await consumer.committed([partition])[partition] == 5
        }
        let reader = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("reader")), logger: stack.logger)
        try await reader.subscribe(topics: [output])
        let out = try await consume(reader) { $0.count >= 5 }
        #expect(out.map(\.valueString) == (0..<5).map { "doubled-\($0 * 2)" })
        try await reader.close()
        try await consumer.close()
        try await producer.close()
    }

    @Test func abortLeavesOffsetsAndReprocessingGivesTheSameOutput() async throws {
        let input = try await stack.freshTopic("abort-in")
        let output = try await stack.freshTopic("abort-out")
        try await seed(input, count: 4)
        let group = uniqueName("abort")
        let partition = KafkaTopicPartition(topic: input, partition: 0)
        let producer = try await transactionalProducer(uniqueName("tid"))

        func transform(_ message: KafkaConsumerMessage) -> KafkaProducerMessage {
            KafkaProducerMessage(topic: output, key: message.keyString, value: "seen-\(message.valueString!)", headers: [KafkaHeader(key: "source_offset", string: String(message.offset))])
        }

        // First attempt: processes the first two records, then fails before commit.
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await consumer.subscribe(topics: [input])
        let first = Array(try await consume(consumer) { $0.count >= 4 }.prefix(2))
        struct Crash: Error {}
        await #expect(throws: Crash.self) {
            try await producer.withTransaction { txn in
                for message in first { try await txn.produce(transform(message)) }
                try await txn.sendOffsets(lastProcessed: [partition: first.last!.offset], groupMetadata: consumer.groupMetadata())
                throw Crash()
            }
        }
        let afterAbort = try await consumer.committed([partition])[partition]
        #expect(afterAbort == nil, "committed after abort: \(String(describing: afterAbort))")
        try await consumer.close()

        // Reprocess from the committed offsets (none: the beginning) with a new member of the group.
        let again = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await again.subscribe(topics: [input])
        let second = try await consume(again) { $0.count >= 4 }
        #expect(second.map(\.offset) == [0, 1, 2, 3])
        #expect(second.prefix(2).map(transform) == first.map(transform))
        try await producer.withTransaction { txn in
            for message in second { try await txn.produce(transform(message)) }
            try await txn.sendOffsets(lastProcessed: [partition: second.last!.offset], groupMetadata: again.groupMetadata())
        }
        try await eventually("the reprocessed offsets are committed") {
            try await again.committed([partition])[partition] == 4
        }
        try await again.close()
        try await producer.close()
    }

    @Test func secondProducerWithTheSameIDFencesTheFirst() async throws {
        let topic = try await stack.freshTopic("fence")
        let id = uniqueName("tid")
        let zombie = try await transactionalProducer(id)
        try zombie.beginTransaction()

        let successor = try await transactionalProducer(id)
        try await successor.withTransaction { txn in
            try await txn.produce(KafkaProducerMessage(topic: topic, key: "k", value: "from the successor"))
        }

        // The zombie writes only after it was fenced, so the broker sees its old epoch on the produce
        // request and answers PRODUCER_FENCED (Kafka does the same). Had the record reached the broker
        // before the fence, the fence would arrive on EndTxn instead, which the local broker answers
        // by dropping the connection: a commit that times out forever, never "fenced" (INFRA.md).
        try await zombie.produce(KafkaProducerMessage(topic: topic, key: "k", value: "from the zombie"))

        // Following the documented path for each class (retry; abort and try again) must end in a fatal error.
        var kinds: [KafkaError.Kind] = []
        for _ in 0..<6 {
            do {
                try await zombie.commitTransaction()
                kinds.append(.failed)  // a commit that succeeds would be a failed fence
                break
            } catch let error as KafkaError {
                kinds.append(error.kind)
                if error.kind == .fatal { break }
                if error.kind == .abortable {
                    try? await zombie.abortTransaction()
                    try? zombie.beginTransaction()
                    try? await zombie.produce(KafkaProducerMessage(topic: topic, key: "k", value: "zombie again"))
                }
            }
        }
        #expect(kinds.last == .fatal, "error kinds seen: \(kinds)")
        #expect(zombie.fatalError?.isFatal == true)
        try? await zombie.close(timeout: .seconds(1))
        try await successor.close()
    }

    @Test func sealCommitsItsMarkerAloneAndAFencedProducerCannotSeal() async throws {
        let topic = try await stack.freshTopic("seal")
        let id = uniqueName("tid")
        let producer = try await transactionalProducer(id)
        try await producer.withTransaction { txn in
            try await txn.produce(KafkaProducerMessage(topic: topic, partition: 0, key: "k", value: "batch"))
        }
        let marker = KafkaProducerMessage(topic: topic, partition: 0, key: "marker", value: "")
        #expect(await producer.seal(with: marker, bound: .seconds(5)))

        let reader = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("reader")), logger: stack.logger)
        try await reader.subscribe(topics: [topic])
        let read = try await consume(reader) { $0.count >= 2 }
        #expect(read.map(\.keyString) == ["k", "marker"])
        try await reader.close()

        let successor = try await transactionalProducer(id)
        #expect(await producer.seal(with: marker, bound: .seconds(2)) == false)
        try? await producer.close(timeout: .seconds(1))
        try await successor.close()
    }

    /// The local broker's ended epoch that keeps holding a partition (see `KafkaEpochRepair`),
    /// reproduced with the request that arrives late in the race: a transactional batch of an epoch
    /// whose transaction has completed. Every later transaction on that partition then stays
    /// unfinished, for any writer; a successor that reopens and aborts the epoch before initialising
    /// frees the partition, and a repair of an epoch that is no longer the latest changes nothing.
    /// A changelog's batches can exceed what one fetch returns: the repair reads on to the partition's
    /// end, or it would end a writer that finished long ago and leave the last one's epoch open.
    @Test func theLastWriterIsFoundBehindBatchesLargerThanOneFetch() async throws {
        let changelog = KafkaTopicPartition(topic: try await stack.freshTopic("large-changelog"), partition: 0)
        let servers = stack.bootstrapServers
        let earlier = uniqueName("tid"), last = uniqueName("tid")
        let large = String(repeating: "s", count: 300_000)
        let finished = try await transactionalProducer(earlier)
        for index in 0..<3 {
            try await finished.withTransaction { txn in
                try await txn.produce(
                    KafkaProducerMessage(
                        topic: changelog.topic, partition: 0, key: "k\(index)", value: large, headers: [KafkaHeader(key: "souk_writer", string: earlier)]
                    )
                )
            }
        }
        try await finished.close()
        // Killed with its transaction open.
        let killed = try await transactionalProducer(last)
        try killed.beginTransaction()
        _ = try await killed.send(
            KafkaProducerMessage(topic: changelog.topic, partition: 0, key: "k", value: "open", headers: [KafkaHeader(key: "souk_writer", string: last)])
        )
        await killed.discard(inFlightBound: .seconds(1))
        let open = try await KafkaWireClient.with(servers: servers, timeout: .seconds(5)) { wire in
            try wire.fetch(changelog, from: try wire.latestOffset(changelog) - 1).batches.last { $0.isTransactional && !$0.isControl }
        }
        let epoch = try #require(open)
        let admin = try stack.admin()
        #expect(try await admin.unstablePartitions([changelog]).map(\.partition) == [changelog])

        let outcome = await KafkaEpochRepair.endLastWriter(of: changelog, writerHeader: "souk_writer", configuration: stack.producerConfiguration())
        #expect(outcome == .ended(transactionalID: last, producerID: epoch.producerID, epoch: epoch.producerEpoch))
        #expect(try await admin.unstablePartitions([changelog]).isEmpty)
    }

    @Test func aSuccessorEndsTheEpochAKilledPredecessorLeftHoldingAPartition() async throws {
        let output = try await stack.freshTopic("held")
        let changelog = KafkaTopicPartition(topic: try await stack.freshTopic("held-changelog"), partition: 0)
        let shared = KafkaTopicPartition(topic: output, partition: 0)
        let id = uniqueName("tid")
        let servers = stack.bootstrapServers
        let predecessor = try await transactionalProducer(id)
        try await predecessor.withTransaction { txn in
            try await txn.produce(
                KafkaProducerMessage(topic: changelog.topic, partition: 0, key: "state", value: "1", headers: [KafkaHeader(key: "souk_writer", string: id)])
            )
            try await txn.produce(KafkaProducerMessage(topic: output, partition: 0, key: "out", value: "1"))
        }
        let written = try await KafkaWireClient.with(servers: servers, timeout: .seconds(5)) { wire in
            try wire.fetch(changelog, from: 0).batches.last { $0.isTransactional && !$0.isControl }
        }
        let epoch = try #require(written)
        let late = KafkaRecordBatchEncoder.batch(
            [.init(key: Array("late".utf8), value: [])], producerID: epoch.producerID, epoch: epoch.producerEpoch,
            baseSequence: -1, transactional: true, timestamp: Int64(Date().timeIntervalSince1970 * 1000)
        )
        _ = try await KafkaWireClient.with(servers: servers, timeout: .seconds(5)) { wire in
            try wire.produce(transactionalID: id, shared, batch: late)
        }
        // Killed: gone without a seal.
        await predecessor.discard(inFlightBound: .seconds(1))

        func unstable() async throws -> Int64 {
            try await KafkaWireClient.with(servers: servers, timeout: .seconds(5)) { wire in
                let positions = try wire.fetch(shared, from: 0)
                return positions.highWatermark - positions.lastStableOffset
            }
        }
        let other = try await transactionalProducer(uniqueName("tid"))
        try await other.withTransaction { txn in
            try await txn.produce(KafkaProducerMessage(topic: output, partition: 0, key: "other", value: "1"))
        }
        // EndTxn completes a transaction before it answers, or leaves it waiting: no wait needed.
        #expect(try await unstable() > 0, "another writer's transaction stays unfinished behind the ended epoch")
        let admin = try stack.admin()
        #expect(try await admin.unstablePartitions([shared, changelog]).map(\.partition) == [shared])

        func repair(except own: String? = nil) async -> KafkaEpochRepair.Outcome {
            await KafkaEpochRepair.endLastWriter(of: changelog, writerHeader: "souk_writer", except: own, configuration: stack.producerConfiguration())
        }
        // The writer itself is told apart, and nothing is done then.
        #expect(await repair(except: id) == .own)
        #expect(try await unstable() > 0)
        #expect(await repair() == .ended(transactionalID: id, producerID: epoch.producerID, epoch: epoch.producerEpoch))
        #expect(try await unstable() == 0)
        #expect(try await admin.unstablePartitions([shared, changelog]).isEmpty)

        let successor = try await transactionalProducer(id)
        #expect(await repair() == .superseded(transactionalID: id, producerID: epoch.producerID, epoch: epoch.producerEpoch))
        try await successor.withTransaction { txn in
            try await txn.produce(KafkaProducerMessage(topic: output, partition: 0, key: "successor", value: "1"))
        }
        #expect(try await unstable() == 0)
        try await successor.close()
        try await other.close()
    }
}
