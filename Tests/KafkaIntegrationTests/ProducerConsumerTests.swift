import Kafka
import Testing
import TestSupport

@Suite(.serialized) struct ProducerConsumerTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func roundTripKeepsKeysHeadersAndPartitions() async throws {
        let topic = try await stack.freshTopic("roundtrip", partitions: 3)
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        let headers: KafkaHeaders = [
            KafkaHeader(key: "ce_type", string: "souk.test.Ping"),
            KafkaHeader(key: "empty", value: nil),
            KafkaHeader(key: "bytes", value: [0, 255, 7]),
        ]
        var reports: [KafkaDeliveryReport] = []
        for index in 0..<6 {
            reports.append(
                try await producer.send(
                    KafkaProducerMessage(topic: topic, partition: Int32(index % 3), key: "key-\(index)", value: "value-\(index)", headers: headers)
                )
            )
        }
        #expect(reports.map(\.partition) == [0, 1, 2, 0, 1, 2])
        #expect(reports.filter { $0.partition == 0 }.map(\.offset) == [0, 1])
        try await producer.close()

        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("g")), logger: stack.logger)
        try await consumer.subscribe(topics: [topic])
        let messages = try await consume(consumer) { $0.count >= 6 }
        #expect(messages.count == 6)
        for message in messages {
            let index = Int(message.keyString!.dropFirst("key-".count))!
            #expect(message.valueString == "value-\(index)")
            #expect(message.partition == Int32(index % 3))
            #expect(message.headers == headers)
            #expect(message.timestampMilliseconds != nil)
        }
        try await consumer.close()
    }

    @Test func keyedRecordsUseTheJavaPartitioner() async throws {
        let topic = try await stack.freshTopic("murmur", partitions: 6)
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        // Partitions Java's DefaultPartitioner (murmur2, positive, mod 6) gives these keys.
        let expected: [String: Int32] = ["order-1": javaPartition("order-1", 6), "sku-42": javaPartition("sku-42", 6), "a": javaPartition("a", 6)]
        for (key, partition) in expected {
            let report = try await producer.send(KafkaProducerMessage(topic: topic, key: key, value: "x"))
            #expect(report.partition == partition, "key \(key)")
        }
        try await producer.close()
    }

    @Test func twoConsumersSplitPartitionsAndTheSurvivorTakesOver() async throws {
        let topic = try await stack.freshTopic("split", partitions: 4)
        let group = uniqueName("split")
        let first = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        let second = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await first.subscribe(topics: [topic])
        try await second.subscribe(topics: [topic])
        try await eventually("both members have partitions", timeout: .seconds(40)) {
            _ = try await first.poll(timeout: .milliseconds(50))
            _ = try await second.poll(timeout: .milliseconds(50))
            let a = try await first.assignment()
            let b = try await second.assignment()
            return !a.isEmpty && !b.isEmpty && Set(a).isDisjoint(with: b) && a.count + b.count == 4
        }
        try await second.close()
        try await eventually("the survivor owns every partition", timeout: .seconds(40)) {
            _ = try await first.poll(timeout: .milliseconds(50))
            return try await first.assignment().count == 4
        }
        // And it reads what is produced to any of them.
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        for partition in 0..<4 { _ = try await producer.send(KafkaProducerMessage(topic: topic, partition: Int32(partition), key: nil, value: "p\(partition)")) }
        let messages = try await consume(first) { Set($0.map(\.partition)).count == 4 }
        #expect(Set(messages.map(\.partition)) == [0, 1, 2, 3])
        try await first.close()
        try await producer.close()
    }

    @Test func rebalanceListenerHearsAssignAndRevoke() async throws {
        let topic = try await stack.freshTopic("listener", partitions: 2)
        let events = EventLog()
        let consumer = try KafkaConsumer(
            configuration: stack.consumerConfiguration(group: uniqueName("listener")),
            logger: stack.logger,
            rebalanceListener: { events.append($0) }
        )
        try await consumer.subscribe(topics: [topic])
        try await eventually("partitions are assigned", timeout: .seconds(30)) {
            _ = try await consumer.poll(timeout: .milliseconds(50))
            return !events.all.isEmpty
        }
        #expect(events.all.first == .assigned([KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1)], cooperative: false))
        try await consumer.close()
        #expect(events.all.last == .revoked([KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1)], cooperative: false))
    }

    @Test func cooperativeRebalancingMovesOnlySomePartitions() async throws {
        let topic = try await stack.freshTopic("coop", partitions: 4)
        let group = uniqueName("coop")
        let firstEvents = EventLog()
        let configuration = stack.consumerConfiguration(group: group, assignmentStrategy: .cooperativeSticky)
        let first = try KafkaConsumer(configuration: configuration, logger: stack.logger, rebalanceListener: { firstEvents.append($0) })
        try await first.subscribe(topics: [topic])
        try await eventually("the first member owns every partition", timeout: .seconds(40)) {
            _ = try await first.poll(timeout: .milliseconds(50))
            return try await first.assignment().count == 4
        }
        let second = try KafkaConsumer(configuration: configuration, logger: stack.logger)
        try await second.subscribe(topics: [topic])
        try await eventually("the second member gets a share", timeout: .seconds(40)) {
            _ = try await first.poll(timeout: .milliseconds(50))
            _ = try await second.poll(timeout: .milliseconds(50))
            let secondCount = try await second.assignment().count
            let firstCount = try await first.assignment().count
            return secondCount == 2 && firstCount == 2
        }
        // Incremental: the first member was told only about the two partitions it gave up.
        let revocations = firstEvents.all.compactMap { event -> [KafkaTopicPartition]? in
            if case .revoked(let partitions, let cooperative) = event, cooperative { return partitions }
            return nil
        }
        #expect(revocations.last?.count == 2)
        #expect(firstEvents.all.allSatisfy { if case .assigned(_, let cooperative) = $0 { cooperative } else { true } })
        try await second.close()
        try await first.close()
    }

    @Test func seekPauseResumeAndPositions() async throws {
        let topic = try await stack.freshTopic("seek", partitions: 1)
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        for index in 0..<10 { try await producer.produce(KafkaProducerMessage(topic: topic, key: nil, value: "\(index)")) }
        try await producer.flush()
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("seek")), logger: stack.logger)
        try await consumer.assign([KafkaTopicPartitionOffset(partition, offset: KafkaOffset(7))])
        let tail = try await consume(consumer) { $0.count >= 3 }
        #expect(tail.map(\.valueString) == ["7", "8", "9"])
        #expect(try await consumer.positions([partition])[partition] == 10)

        try await consumer.seek([KafkaTopicPartitionOffset(partition, offset: KafkaOffset(2))])
        try await consumer.pause([partition])
        #expect(try await consumer.poll(timeout: .milliseconds(300)).isEmpty)
        try await consumer.resume([partition])
        let replay = try await consume(consumer) { $0.count >= 8 }
        #expect(replay.first?.offset == 2)

        try await consumer.commit(lastProcessed: [partition: 4])
        #expect(try await consumer.committed([partition])[partition] == 5)
        try await consumer.close()
        try await producer.close()
    }
}

/// Java's `Utils.toPositive(Utils.murmur2(key)) % partitions`, written out to check the binding's default.
func javaPartition(_ key: String, _ partitions: Int32) -> Int32 {
    let data = Array(key.utf8)
    let seed: UInt32 = 0x9747_b28c
    let m: UInt32 = 0x5bd1_e995
    var h = seed ^ UInt32(data.count)
    var index = 0
    while index + 4 <= data.count {
        var k = UInt32(data[index]) | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2]) << 16 | UInt32(data[index + 3]) << 24
        k = k &* m
        k ^= k >> 24
        k = k &* m
        h = h &* m
        h ^= k
        index += 4
    }
    let rest = data.count - index
    if rest >= 3 { h ^= UInt32(data[index + 2]) << 16 }
    if rest >= 2 { h ^= UInt32(data[index + 1]) << 8 }
    if rest >= 1 {
        h ^= UInt32(data[index])
        h = h &* m
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32(bitPattern: h & 0x7fff_ffff) % partitions
}

final class EventLog: Sendable {
    private let events = Mutex<[KafkaRebalanceEvent]>([])
    func append(_ event: KafkaRebalanceEvent) { events.withLock { $0.append(event) } }
    var all: [KafkaRebalanceEvent] { events.withLock { $0 } }
}

import Synchronization
