import Foundation
import JSONCodec
import Kafka
import Streams
import TestSupport
import Testing

/// Restore on the real broker, from changelog records written the way owners, aborts and zombies
/// leave them (the local broker keeps aborted records readable).
@Suite(.serialized) struct ChangelogRestoreTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    func write(_ topic: String, _ records: [(key: String, value: Int?, source: Int64, version: ChangelogVersion)]) async throws {
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        for record in records {
            let value = try record.value.map { try SoukJSON.encode(StoredState(state: $0)) }
            _ = try await producer.send(
                KafkaProducerMessage(
                    topic: topic, partition: 0, key: Array(record.key.utf8), value: value,
                    headers: ChangelogSource(topic: "in", offset: record.source, version: record.version).headers
                )
            )
        }
        try await producer.close()
    }

    @Test func theHighestCommittedVersionWinsNotTheLastRecordInTheLog() async throws {
        let changelog = try await stack.freshTopic("changelog", partitions: 1)
        let g1 = ChangelogVersion(generation: 1, sequence: 0)
        try await write(changelog, [
            // Owner 1 commits a=1 (source 5, committed); then an aborted attempt writes a=99 (source 15)
            // and its retry, which decided differently, rewrites a=2 with the next sequence.
            ("a", 1, 5, g1),
            ("a", 99, 15, g1.next),
            ("a", 2, 12, g1.next.next),
            // Owner 2 took over at committed offset 20 and rewrote b; a zombie of owner 1 wrote b=7 after
            // that, with an older generation.
            ("b", 3, 20, ChangelogVersion(generation: 2, sequence: 0)),
            ("b", 7, 18, ChangelogVersion(generation: 1, sequence: 9)),
            // Not committed yet: a leftover for the next owner to rewrite.
            ("c", 4, 40, ChangelogVersion(generation: 2, sequence: 1)),
        ])
        let restorer = ChangelogRestorer<Int>(changelogTopic: changelog, bootstrapServers: stack.bootstrapServers, logger: stack.logger)
        let restored = try #require(
            try await restorer.restorePartitions([0], committed: [KafkaTopicPartition(topic: "in", partition: 0): 30])[0]
        )
        #expect(restored.entries["a"]?.state == 2, "the rewrite after the abort wins over the aborted record")
        #expect(restored.entries["b"]?.state == 3, "the newer owner's generation wins over a zombie's later record")
        #expect(restored.entries["c"] == nil)
        #expect(restored.leftovers == ["c"])
        #expect(restored.generation == 2)
    }
}
