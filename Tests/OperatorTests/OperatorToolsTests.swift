import App
import Counting
import Foundation
import Kafka
import Streams
import Testing
import TestSupport

/// The operators' commands against the real broker.
@Suite(.serialized) struct OperatorToolsTests {
    let stack: TestStack
    init() throws { stack = try TestStack.load() }

    func produce(_ topic: String, key: String, type: String, value: String = "{}", partition: Int32? = nil) async throws {
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        _ = try await producer.send(KafkaProducerMessage(
            topic: topic, partition: partition, key: Array(key.utf8), value: Array(value.utf8), headers: [KafkaHeader(key: CloudEventHeader.type, string: type)]
        ))
    }

    @Test func tailFindsARecordByKeyAndType() async throws {
        let topic = try await stack.freshTopic("tail", partitions: 3)
        for (key, type) in [("a", "souk.x.Created.v1"), ("b", "souk.x.Created.v1"), ("b", "souk.x.Deleted.v1"), ("c", "souk.x.Deleted.v1")] {
            try await produce(topic, key: key, type: type)
        }
        var found: [KafkaConsumerMessage] = []
        try await TopicTail(topics: [topic], start: .earliest, key: "b", types: ["Deleted"], follow: false).run(bootstrapServers: stack.bootstrapServers, logger: stack.logger) {
            found.append($0)
        }
        #expect(found.map { "\($0.keyString!) \($0.shortType!)" } == ["b Deleted"])
        await #expect(throws: OperatorError.unknownTopic("\(topic)-missing")) {
            try await TopicTail(topics: ["\(topic)-missing"], start: .earliest, follow: false).run(bootstrapServers: stack.bootstrapServers, logger: stack.logger) { _ in }
        }
    }

    /// A group that committed 3 of 5 records, then left.
    func idleGroup(on topic: String) async throws -> String {
        for index in 0..<5 { try await produce(topic, key: "k\(index)", type: "t", partition: 0) }
        let group = uniqueName("replay")
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await consumer.subscribe(topics: [topic])
        _ = try await consume(consumer) { $0.count >= 5 }
        try await consumer.commit(lastProcessed: [KafkaTopicPartition(topic: topic, partition: 0): 2])
        try await consumer.close(leavingGroup: true)
        return group
    }

    @Test func lagShowsCommittedEndAndLag() async throws {
        let topic = try await stack.freshTopic("lag")
        let group = try await idleGroup(on: topic)
        let admin = try stack.admin()
        let report = try await GroupLagReport.collect(admin: admin, group: group)
        let partition = try #require(report.groups.first?.partitions.first)
        #expect((partition.committed, partition.endOffset, partition.lag) == (3, 5, 2))
        #expect(report.table.contains("\(topic)/0") && report.table.contains("total lag 2"))
        await #expect(throws: OperatorError.unknownGroup("\(group)-missing")) { try await GroupLagReport.collect(admin: admin, group: "\(group)-missing") }
    }

    @Test func replayMovesAnIdleGroupAndAConsumerRereadsFromThere() async throws {
        let topic = try await stack.freshTopic("replay")
        let group = try await idleGroup(on: topic)
        let replay = GroupReplay(admin: try stack.admin())
        try await eventually("the group has no members") { (try? await replay.plan(group: group, target: .earliest, topic: nil)) != nil }
        let moves = try await replay.plan(group: group, target: .offset(1), topic: nil)
        #expect(moves == [GroupReplay.Move(partition: KafkaTopicPartition(topic: topic, partition: 0), from: 3, to: 1)])
        try await replay.apply(group: group, moves)
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: group), logger: stack.logger)
        try await consumer.subscribe(topics: [topic])
        let reread = try await consume(consumer) { $0.count >= 4 }
        #expect(reread.first?.offset == 1 && reread.map(\.keyString) == ["k1", "k2", "k3", "k4"])
        await #expect(throws: OperatorError.groupActive(group, members: 1)) { try await replay.plan(group: group, target: .earliest, topic: nil) }
        try await consumer.close(leavingGroup: true)
    }

    @Test func aRedrivenDeadLetterIsProcessedOnce() async throws {
        let input = try await stack.freshTopic("redrive-in", partitions: 2)
        let output = try await stack.freshTopic("redrive-out", partitions: 2)
        let role = CountingRole(name: uniqueName("redrive"), inputTopic: input, outputTopic: output)
        let worker = StreamWorker(role: role, configuration: StreamConfiguration(bootstrapServers: stack.bootstrapServers, timings: stack.timings, commitInterval: .milliseconds(20), leaveGroupOnClose: false), logger: stack.logger)
        let task = Task { try await worker.run() }
        defer { task.cancel() }
        // A record the counting role cannot decode goes to its dead-letter topic; a good one is counted.
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        _ = try await producer.send(KafkaProducerMessage(topic: input, key: "x", value: "not a number", headers: [KafkaHeader(key: CloudEventHeader.id, string: "poison-1")]))
        let tool = DeadLetterTool(role: role.name, bootstrapServers: stack.bootstrapServers, logger: stack.logger)
        var letters: [DeadLetter] = []
        try await eventually("the record is dead-lettered", timeout: .seconds(60)) {
            letters = (try? await tool.list()) ?? []
            return letters.count == 1
        }
        #expect(letters[0].sourceTopic == input && letters[0].reason.hasPrefix("undecodable"))
        // A good increment whose handling failed for a while (as when a provider was down) was dead-lettered
        // by the runtime with its id and where it came from.
        _ = try await producer.send(KafkaProducerMessage(
            topic: tool.topic, key: "k", value: #"{"amount":5}"#,
            headers: [
                KafkaHeader(key: CloudEventHeader.id, string: "late-1"), KafkaHeader(key: DeadLetterHeader.reason, string: "transient failure persisted past 5 seconds"),
                KafkaHeader(key: DeadLetterHeader.sourceTopic, string: input), KafkaHeader(key: DeadLetterHeader.sourcePartition, string: "0"),
                KafkaHeader(key: DeadLetterHeader.sourceOffset, string: "7"),
            ]
        ))
        try await eventually("both dead letters are listed") { ((try? await tool.list()) ?? []).count == 2 }
        let late = try #require(try await tool.list().first { $0.key == "k" })
        // Redriven twice by mistake: the role counts it once, the second copy is a duplicate.
        try await tool.redrive(try await tool.plan(ids: [late.id]))
        try await tool.redrive(try await tool.plan(ids: [late.id]))
        let inputTap = try await TopicTap(stack: stack, topics: [input])
        defer { inputTap.stop() }
        try await eventually("the redriven records came back stamped", timeout: .seconds(60)) {
            // Both copies carry the same id: the tap, like the role, keeps one.
            inputTap.all.contains { $0.headers.string(DeadLetterTool.redrivenFromHeader) == "\(tool.topic):\(late.id)" }
        }
        // A later increment on the same key (so the same partition) shows where the count stands after both copies.
        _ = try await producer.send(KafkaProducerMessage(topic: input, key: "k", value: #"{"amount":1}"#, headers: [KafkaHeader(key: CloudEventHeader.id, string: "after-1")]))
        let outputTap = try await TopicTap(stack: stack, topics: [output])
        defer { outputTap.stop() }
        var counts: [Int] = []
        try await eventually("the later increment was counted", timeout: .seconds(60)) {
            counts = try outputTap.all.filter { $0.keyString == "k" }.map { try JSONDecoder().decode(CountingRole.Counted.self, from: Data($0.value ?? [])).count }
            return counts.contains { $0 >= 6 }
        }
        #expect(counts == [5, 6], "the redriven increment was applied once")
        await #expect(throws: OperatorError.invalid("no dead letter 0:999 on \(tool.topic) (see `souk dlq list \(role.name)`)")) { try await tool.plan(ids: ["0:999"]) }
    }

    /// Every record once per id (the local broker can show an aborted transaction's copy too).
    func readAll(_ topic: String) async throws -> [KafkaConsumerMessage] {
        var records: [KafkaConsumerMessage] = []
        var ids = Set<String>()
        try await TopicTail(topics: [topic], start: .earliest, follow: false).run(bootstrapServers: stack.bootstrapServers, logger: stack.logger) { message in
            if ids.insert(message.headers.string(CloudEventHeader.id) ?? "\(message.partition):\(message.offset)").inserted { records.append(message) }
        }
        return records
    }
}
