import Counting
import Foundation
import Kafka
import Streams
import Testing
import TestSupport

/// The runtime's exactly-once guarantee, shown at the level of effects on the real broker: whatever
/// happens to the workers, each key's count ends at exactly the number of increments produced for it,
/// and the output, deduplicated by message id, holds every running count exactly once.
@Suite(.serialized) struct CountingWorkerTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func survivesRandomKills() async throws {
        let run = try await CountingRun(stack: stack, partitions: 6, keys: 40)
        for instance in 0..<3 { try run.start(instance) }
        let production = Task { try await run.produce(total: 3000, chunk: 100, pause: .milliseconds(100)) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 800...2000, using: &generator)))
            let victim = Int.random(in: 0..<3, using: &generator)
            try await run.kill(victim)
            try run.start(victim)
        }
        try await production.value
        try await run.verify()
        // The state itself, not only the outputs: a lone fresh worker restores every partition from the
        // changelog and must continue each count exactly where it ended.
        try await run.stopWorkers()
        try run.start(0)
        try await run.produce(total: 40, chunk: 40, pause: .zero)
        try await run.verify()
        try await run.stopAll()
    }

    /// A poll that outlasts the batch's time bound leaves the rest of its records to be read again;
    /// each rewind moves the partition's epoch, so what the poll already out brought of it is dropped,
    /// of every input topic. With a bound of a millisecond nearly every poll is cut short: each count
    /// must still end exact, none lost and none twice.
    @Test func recordsCutShortByTheTimeBoundAreReadAgainFromEveryInput() async throws {
        let run = try await CountingRun(stack: stack, partitions: 2, keys: 8, inputs: 3, workerOptions: ["--batch-time-bound-ms", "1"])
        try run.start(0)
        try await run.produce(total: 3000, chunk: 300, pause: .milliseconds(20))
        try await run.verify()
        let log = try String(contentsOf: run.lastLogFile, encoding: .utf8)
        #expect(!log.contains("error"), "\(log.suffix(2000))")
        try await run.stopAll()
    }

    @Test func gracefulStopCommitsWhatWasProcessed() async throws {
        let run = try await CountingRun(stack: stack, partitions: 4, keys: 20)
        for instance in 0..<2 { try run.start(instance) }
        let production = Task { try await run.produce(total: 1500, chunk: 100, pause: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))
        let status = try await run.stop(1)
        #expect(status == 0, "a graceful stop exits cleanly")
        try run.start(1)
        try await production.value
        try await run.verify()
        try await run.stopAll()
    }

    /// Two processes in one slot (a restarted worker whose predecessor still runs): the newer one fences
    /// the older, and the counts stay exact. The local broker fences the older producer only when it
    /// had a transaction open at that moment, so whether the zombie learns it and stops depends on
    /// timing here; when it does, it must stop with a failure. (FencedWorkerTests shows that path
    /// deterministically on librdkafka's mock cluster.)
    @Test func aSecondWorkerInTheSameSlotNeverDoubleCounts() async throws {
        let run = try await CountingRun(stack: stack, partitions: 2, keys: 10)
        try run.start(0)
        try await run.produce(total: 200, chunk: 100, pause: .zero)
        try await run.waitForOutputs(atLeast: 100)
        let zombie = try #require(run.worker(0))
        try run.start(0)
        try await run.produce(total: 400, chunk: 50, pause: .milliseconds(50))
        try await run.verify()
        if !zombie.isRunning {
            #expect(try await zombie.waitForExit() != 0, "a fenced worker exits with a failure so that its supervisor restarts it")
            #expect(try String(contentsOf: zombie.logFile, encoding: .utf8).contains("fatal"))
        }
        zombie.terminate()
        try await zombie.waitForExit()
        try await run.stopAll()
    }

    @Test func scalesFromOneToThreeInstances() async throws {
        let run = try await CountingRun(stack: stack, partitions: 6, keys: 30)
        try run.start(0)
        try await run.produce(total: 600, chunk: 100, pause: .milliseconds(50))
        try await run.waitForOutputs(atLeast: 300)
        try run.start(1)
        try run.start(2)
        try await run.produce(total: 1200, chunk: 100, pause: .milliseconds(100))
        try await run.verify()
        try await run.stopAll()
    }

    @Test func restartRestoresFromALocalSnapshotAndTheChangelogTail() async throws {
        let run = try await CountingRun(stack: stack, partitions: 3, keys: 12)
        let stateDirectory = run.logDirectory.appendingPathComponent("state")
        try run.start(0, stateDirectory: stateDirectory)
        try await run.produce(total: 300, chunk: 100, pause: .zero)
        try await run.verify()
        #expect(try await run.stop(0) == 0)
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: stateDirectory.appendingPathComponent("souk.\(run.role).changelog.v1").path)
        #expect(Set(snapshots) == ["0.json", "1.json", "2.json"])

        // More increments while no worker runs; the restart must combine the snapshot and the tail.
        try await run.produce(total: 120, chunk: 120, pause: .zero)
        try run.start(0, stateDirectory: stateDirectory)
        try await run.verify()
        let log = try String(contentsOf: run.lastLogFile, encoding: .utf8)
        #expect(log.contains("restoring from snapshot"))
        try await run.stopAll()
    }

    @Test func healthAndMetricsAreServed() async throws {
        let run = try await CountingRun(stack: stack, partitions: 2, keys: 4)
        let port = try freePort()
        try run.start(0, httpPort: port)
        try await eventually("/health/ready answers 200", timeout: .seconds(60)) {
            await httpGet("http://127.0.0.1:\(port)/health/ready")?.status == 200
        }
        #expect(await httpGet("http://127.0.0.1:\(port)/health/live")?.status == 200)
        try await run.produce(total: 40, chunk: 40, pause: .zero)
        try await run.verify()
        let metrics = try #require(await httpGet("http://127.0.0.1:\(port)/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"souk_stream_messages_in_total{role="\#(run.role)",partition="0"}"#) || metrics.body.contains(#"souk_stream_messages_in_total{partition="0",role="\#(run.role)"}"#), "\(metrics.body.prefix(2000))")
        #expect(metrics.body.contains("souk_stream_transactions_total"))
        #expect(metrics.body.contains("souk_stream_restores_total"))
        #expect(metrics.body.contains("souk_stream_lag"))
        try await run.stopAll()
    }

    /// On the local broker a commit that overlaps another writer's open transaction stays prepared
    /// until a later overlapping `EndTxn` finishes it, and pins its outputs for every reader. Here the
    /// two other writers end so that neither finishes it (B is held by C, and C does not overlap the
    /// worker): only the worker's own next commit can, and it has no input left to commit
    /// (`StreamConfiguration.confirmCommits`).
    @Test func aCommitTheBrokerLeftPreparedIsFinishedByTheIdleWorker() async throws {
        let run = try await CountingRun(stack: stack, partitions: 1, keys: 2)
        let elsewhere = try await stack.freshTopic("elsewhere", partitions: 1)
        let port = try freePort()
        try run.start(0, httpPort: port)
        try await run.produce(total: 4, chunk: 4, pause: .zero)
        try await run.verify()
        let b = try await openTransaction("b")
        // Delivered, so the broker has B open on the worker's output partition and on another topic.
        _ = try await b.send(KafkaProducerMessage(topic: run.output, partition: 0, key: "b", value: "{}"))
        _ = try await b.send(KafkaProducerMessage(topic: elsewhere, partition: 0, key: "b", value: "{}"))
        try await run.produce(total: 4, chunk: 4, pause: .zero)
        try await eventually("the worker counts a commit the broker left prepared", timeout: .seconds(60)) {
            await counter("souk_stream_unconfirmed_commits_total", port: port) >= 1
        }
        let c = try await openTransaction("c")
        _ = try await c.send(KafkaProducerMessage(topic: elsewhere, partition: 0, key: "c", value: "{}"))
        try await b.commitTransaction()
        try await c.commitTransaction()
        try await run.verify()
        for producer in [b, c] { try await producer.close() }
        try await run.stopAll()
    }

    /// An idle worker closes with one more position marker once its last commit shows: on the local
    /// broker a finished transaction can still block others until its producer's next one
    /// (`StreamWorker.idleCommit`). Rounds that change state write no marker.
    @Test func anIdlePartitionClosesEachQuietSpellWithAPositionMarker() async throws {
        let run = try await CountingRun(stack: stack, partitions: 1, keys: 2)
        try run.start(0)
        // The worker creates its changelog as it starts: a consumer that subscribes before the topic
        // exists sees it only at its next metadata refresh, minutes later.
        let changelogTopic = "souk.\(run.role).changelog.v1"
        let admin = try KafkaAdminClient(bootstrapServers: stack.bootstrapServers, logger: stack.logger)
        try await eventually("the worker created \(changelogTopic)", timeout: .seconds(30)) { try await admin.describeTopic(changelogTopic) != nil }
        let changelog = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("changelog")), logger: stack.logger)
        try await changelog.subscribe(topics: [changelogTopic])
        var markers = 0
        func waitForMarkers(_ count: Int) async throws {
            try await eventually("\(count) position markers on the changelog", timeout: .seconds(30), every: .zero) {
                markers += try await changelog.poll(timeout: .milliseconds(200)).count { $0.keyString == "\u{1}souk.position" }
                return markers >= count
            }
        }
        try await run.produce(total: 4, chunk: 4, pause: .zero)
        try await run.verify()
        try await waitForMarkers(1)
        try await run.produce(total: 4, chunk: 4, pause: .zero)
        try await run.verify()
        try await waitForMarkers(2)
        try await changelog.close()
        try await run.stopAll()
    }

    private func openTransaction(_ name: String) async throws -> KafkaTransactionalProducer {
        let producer = try KafkaTransactionalProducer(
            configuration: stack.producerConfiguration(), transactionalID: uniqueName("writer-\(name)"), logger: stack.logger
        )
        try await producer.initTransactions()
        try producer.beginTransaction()
        return producer
    }

    private func counter(_ name: String, port: Int) async -> Double {
        guard let body = await httpGet("http://127.0.0.1:\(port)/metrics")?.body else { return 0 }
        return body.split(separator: "\n").filter { $0.hasPrefix(name) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    @Test func poisonMessagesGoToTheDeadLetterTopicAndTheWorkerGoesOn() async throws {
        let run = try await CountingRun(stack: stack, partitions: 1, keys: 1, maxMessageBytes: 4096)
        try run.start(0)
        try await run.produce(total: 5, chunk: 5, pause: .zero)
        let poison: [(String, String)] = [
            ("not json {", "undecodable"),
            (#"{"amount": "lots"}"#, "amount: expected Int"),
            (#"{"amount": 1, "padding": ""# + String(repeating: "x", count: 5000) + #""}"#, "oversized"),
        ]
        for (value, _) in poison { try await run.produceRaw(key: "k0", value: value) }
        try await run.produce(total: 5, chunk: 5, pause: .zero)
        try await run.verify()

        let deadLetters = try await run.readDeadLetters(count: 3)
        #expect(deadLetters.count == 3)
        for ((value, reason), letter) in zip(poison, deadLetters) {
            // A record too large to dead-letter whole loses its value, never its coordinates or size:
            // it is never retried forever, and the partition goes on.
            if value.utf8.count > run.maxMessageBytes {
                #expect(letter.value == nil)
                #expect(letter.headers.string(DeadLetterHeader.valueOmitted) == String(value.utf8.count))
            } else {
                #expect(letter.valueString == value)
            }
            #expect(letter.headers.string(DeadLetterHeader.reason)?.contains(reason) == true, "\(letter.headers.string(DeadLetterHeader.reason) ?? "no reason")")
            #expect(letter.headers.string(DeadLetterHeader.sourceTopic) == run.input)
            #expect(letter.headers.string(DeadLetterHeader.sourcePartition) == "0")
        }
        #expect(deadLetters.compactMap { $0.headers.string(DeadLetterHeader.sourceOffset) } == ["5", "6", "7"])
        try await run.stopAll()
    }
}

extension CountingWorkerTests {
    /// A 2 MB command (the broker accepts it): before, the worker aborted and reprocessed its batch
    /// forever, because the dead letter carrying its bytes could not be produced either.
    @Test func aTwoMegabyteRecordIsDeadLetteredAndItsPartitionGoesOn() async throws {
        let run = try await CountingRun(stack: stack, partitions: 1, keys: 1)
        try run.start(0)
        try await run.produce(total: 3, chunk: 3, pause: .zero)
        let huge = #"{"amount": 1, "padding": ""# + String(repeating: "x", count: 2_000_000) + #""}"#
        try await run.produceRaw(key: "k0", value: huge)
        try await run.produce(total: 3, chunk: 3, pause: .zero)
        try await run.verify()
        let letters = try await run.readDeadLetters(count: 1)
        #expect(letters.first?.value == nil)
        #expect(letters.first?.headers.string(DeadLetterHeader.valueOmitted) == String(huge.utf8.count))
        #expect(letters.first?.headers.string(DeadLetterHeader.reason)?.hasPrefix("oversized") == true)
        try await run.stopAll()
    }
}

/// One counting scenario: topics, workers, produced increments, and the check of the output.
final class CountingRun: @unchecked Sendable {
    let stack: TestStack
    let role: String
    let input: String
    /// More input topics, co-partitioned with `input`: increments go to all of them in turn.
    let extraInputs: [String]
    let output: String
    let keys: Int
    let maxMessageBytes: Int
    /// More options for every worker started.
    let workerOptions: [String]
    let logDirectory: URL
    private var workers: [Int: ChildProcess] = [:]
    private var starts = 0
    private var expected: [String: Int] = [:]
    private let producer: KafkaProducer

    init(
        stack: TestStack, partitions: Int, keys: Int, maxMessageBytes: Int = 1_000_000, inputs: Int = 1, workerOptions: [String] = []
    ) async throws {
        self.stack = stack
        self.keys = keys
        self.maxMessageBytes = maxMessageBytes
        self.workerOptions = workerOptions
        role = uniqueName("counter")
        input = try await stack.freshTopic("counts-in", partitions: partitions)
        var extraInputs: [String] = []
        for _ in 1..<max(1, inputs) { extraInputs.append(try await stack.freshTopic("counts-in", partitions: partitions)) }
        self.extraInputs = extraInputs
        output = try await stack.freshTopic("counts-out", partitions: partitions)
        logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(role)
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        var configuration = stack.producerConfiguration()
        // Upstream producers may send records larger than the runtime takes: let the test send them too.
        configuration.additional["message.max.bytes"] = "4000000"
        producer = try KafkaProducer(configuration: configuration, logger: stack.logger)
    }

    private(set) var lastLogFile = URL(fileURLWithPath: "/dev/null")

    func start(_ instance: Int, httpPort: Int = 0, stateDirectory: URL? = nil) throws {
        starts += 1
        lastLogFile = logDirectory.appendingPathComponent("instance-\(instance)-start-\(starts).log")
        workers[instance] = try ChildProcess(
            executable: "souk-counter",
            arguments: [
                "--input", input, "--output", output, "--role", role, "--instance", String(instance),
                "--max-message-bytes", String(maxMessageBytes), "--http-port", String(httpPort),
            ] + extraInputs.flatMap { ["--input", $0] } + workerOptions + (stateDirectory.map { ["--state-dir", $0.path] } ?? []),
            environment: ["SOUK_LOG_LEVEL": ProcessInfo.processInfo.environment["SOUK_TEST_WORKER_LOG_LEVEL"] ?? "info"],
            logFile: lastLogFile
        )
    }

    func worker(_ instance: Int) -> ChildProcess? { workers[instance] }

    func kill(_ instance: Int) async throws {
        workers[instance]?.kill()
        try await workers[instance]?.waitForExit()
    }

    func stop(_ instance: Int) async throws -> Int32 {
        workers[instance]?.terminate()
        return try await workers[instance]?.waitForExit(timeout: .seconds(30)) ?? -1
    }

    func stopWorkers() async throws {
        for worker in workers.values { worker.terminate() }
        for worker in workers.values { try await worker.waitForExit() }
        workers.removeAll()
    }

    func stopAll() async throws {
        try await stopWorkers()
        try await producer.close()
    }

    /// Produces `total` increments of 1 over `keys` keys, in chunks, so that they keep arriving while
    /// workers come and go.
    func produce(total: Int, chunk: Int, pause: Duration) async throws {
        var sent = 0
        let inputs = [input] + extraInputs
        while sent < total {
            for _ in 0..<min(chunk, total - sent) {
                let key = "k\(sent % keys)"
                let topic = inputs[(sent / keys) % inputs.count]
                try await producer.produce(KafkaProducerMessage(topic: topic, key: key, value: #"{"amount":1}"#))
                expected[key, default: 0] += 1
                sent += 1
            }
            try await producer.flush()
            if pause > .zero { try await Task.sleep(for: pause) }
        }
    }

    func produceRaw(key: String, value: String) async throws {
        _ = try await producer.send(KafkaProducerMessage(topic: input, key: key, value: value))
    }

    private var outputs: [String: (key: String, count: Int)] = [:]
    private var conflicts: [String] = []
    private lazy var reader: KafkaConsumer = {
        let consumer = try! KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("reader")), logger: stack.logger)
        return consumer
    }()
    private var subscribed = false

    private func readOutputs(until done: () -> Bool, timeout: Duration) async throws {
        if !subscribed {
            try await reader.subscribe(topics: [output])
            subscribed = true
        }
        try await eventually("the expected counts appear in \(output) (worker logs: \(logDirectory.path))", timeout: timeout, every: .zero) {
            for message in try await reader.poll(maxMessages: 5000, timeout: .milliseconds(200)) {
                // Every output of the worker carries an id; a test's own record on the topic does not.
                guard let id = message.headers.string(CloudEventHeader.id) else { continue }
                let counted = try JSONDecoder().decode(CountingRole.Counted.self, from: Data(message.value ?? []))
                if let seen = outputs[id], seen != (counted.key, counted.count) {
                    conflicts.append("\(id): \(seen) then \(counted)")
                }
                outputs[id] = (counted.key, counted.count)
            }
            return done()
        }
    }

    func waitForOutputs(atLeast count: Int) async throws {
        try await readOutputs(until: { outputs.count >= count }, timeout: .seconds(60))
    }

    /// Waits until every key reached its expected count, then checks each count appears exactly once.
    func verify() async throws {
        let expected = self.expected
        try await readOutputs(
            until: {
                var highest: [String: Int] = [:]
                for value in outputs.values { highest[value.key] = max(highest[value.key] ?? 0, value.count) }
                return expected.allSatisfy { highest[$0.key] == $0.value }
            },
            timeout: .seconds(120)
        )
        #expect(conflicts.isEmpty, "one id, two payloads: \(conflicts.prefix(5))")
        var perKey: [String: [Int]] = [:]
        for value in outputs.values { perKey[value.key, default: []].append(value.count) }
        for (key, count) in expected {
            #expect(perKey[key]?.sorted() == Array(1...count), "key \(key): each running count exactly once")
        }
        #expect(Set(perKey.keys) == Set(expected.keys))
    }

    func readDeadLetters(count: Int) async throws -> [KafkaConsumerMessage] {
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("dlq")), logger: stack.logger)
        try await consumer.subscribe(topics: ["souk.\(role).dlq.v1"])
        var letters: [String: KafkaConsumerMessage] = [:]
        try await eventually("\(count) dead letters arrive", timeout: .seconds(30), every: .zero) {
            for message in try await consumer.poll(timeout: .milliseconds(200)) {
                // Dedupe by source position: an aborted batch may have leaked a copy.
                letters[message.headers.string(DeadLetterHeader.sourceOffset) ?? ""] = message
            }
            return letters.count >= count
        }
        try await consumer.close()
        return letters.values.sorted { $0.offset < $1.offset }
    }
}
