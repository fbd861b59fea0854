import Kafka
import Testing
import TestSupport

@Suite(.serialized) struct AdminTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func createDescribeAndDeleteTopicsWithConfigs() async throws {
        let admin = try stack.admin()
        let name = uniqueName("admin")
        let existing = try await admin.createTopics([
            KafkaNewTopic(name: name, partitions: 3, configs: ["cleanup.policy": "compact", "retention.ms": "86400000"])
        ])
        #expect(existing.isEmpty)
        try await eventually("the topic is listed") { try await admin.listTopics().contains { $0.name == name } }
        #expect(try await admin.describeTopic(name)?.partitions == 3)
        let configs = try await admin.describeTopicConfigs(name, includeDefaults: true)
        #expect(configs["cleanup.policy"] == "compact")
        try await admin.setTopicConfigs(name, ["retention.ms": "3600000"])
        try await eventually("the config change is visible") { try await admin.describeTopicConfigs(name, includeDefaults: true)["retention.ms"] == "3600000" }
        // Creating it again reports it as existing rather than failing.
        #expect(try await admin.createTopics([KafkaNewTopic(name: name, partitions: 3)]) == [name])
        try await admin.deleteTopics([name])
        try await eventually("the topic is gone") { try await admin.describeTopic(name) == nil }
    }

    @Test func groupsOffsetsLagAndReplay() async throws {
        let admin = try stack.admin()
        let topic = try await stack.freshTopic("lag", partitions: 1)
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        for index in 0..<10 { try await producer.produce(KafkaProducerMessage(topic: topic, partition: 0, key: nil, value: "m\(index)")) }
        try await producer.flush()
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let group = uniqueName("lag")

        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await consumer.subscribe(topics: [topic])
        let all = try await consume(consumer) { $0.count >= 10 }
        try await consumer.commit(lastProcessed: [partition: all[5].offset])
        try await consumer.close()

        try await eventually("the group is listed") { try await admin.listGroups().contains { $0.groupID == group } }
        let description = try await admin.describeGroup(group)
        let lag = try #require(description.partitions.first { $0.topicPartition == partition })
        #expect(lag.committed == 6)
        #expect(lag.endOffset >= 10)
        #expect(lag.lag == lag.endOffset - 6)

        // Replay from offset 2 and from the earliest offset, then consume from the new position.
        try await admin.alterGroupOffsets(group, to: [partition: 2])
        #expect(try await admin.committedOffsets(group)[partition] == 2)
        let replaying = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await replaying.subscribe(topics: [topic])
        let replayed = try await consume(replaying) { $0.count >= 8 }
        #expect(replayed.first?.offset == 2)
        #expect(replayed.map(\.valueString) == (2..<10).map { "m\($0)" })
        try await replaying.close()

        let earliest = try await admin.resolveOffsets(.earliest, for: [partition])
        #expect(earliest[partition] == 0)
        let byTime = try await admin.resolveOffsets(.timestamp(milliseconds: try #require(all[3].timestampMilliseconds)), for: [partition])
        #expect(try #require(byTime[partition]) <= 3)
        // An inactive group can be deleted, offsets and all.
        try await admin.deleteGroup(group)
        try await eventually("the group is gone") { try await admin.listGroups().allSatisfy { $0.groupID != group } }
        try await producer.close()
    }
}
