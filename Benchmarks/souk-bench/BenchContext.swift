import Foundation
import JSONCodec
import Kafka
import Logging
import Streams
import Synchronization

enum BenchMode: CaseIterable {
    case zeroHop, raw, cPlain, cTransactional, exactlyOnce, exactlyOnceJSON, atLeastOnce

    var title: String {
        switch self {
        case .zeroHop: "(z) zero hops: producer → read_committed reader, no stage (latency only)"
        case .raw: "(a) raw pipe through the Swift binding, no transactions"
        case .cPlain: "(r1) plain C librdkafka pipe, no transactions"
        case .cTransactional: "(r2) plain C librdkafka pipe, one transaction every 100 ms"
        case .exactlyOnce: "(b) runtime, exactly-once, bytes passed through (dedupe off)"
        case .exactlyOnceJSON: "(d) runtime, exactly-once, JSON decoded and re-encoded, dedupe on"
        case .atLeastOnce: "(c) runtime, at-least-once"
        }
    }

    var option: String {
        switch self {
        case .zeroHop: "zero"
        case .raw: "raw"
        case .cPlain: "c"
        case .cTransactional: "ctxn"
        case .exactlyOnce: "eos"
        case .exactlyOnceJSON: "eosj"
        case .atLeastOnce: "alo"
        }
    }

    /// Rows that do not depend on the runtime's batch size.
    var isReference: Bool { self != .exactlyOnce && self != .exactlyOnceJSON && self != .atLeastOnce }
}

struct BenchResult {
    var mode: BenchMode
    var batchSize: Int
    var title: String { mode.isReference ? mode.title : "\(mode.title), batch \(batchSize)" }
    var throughput: Double
    /// p50 and p99 hop latency (ms) per offered rate, in the order of `--rates`.
    var latencies: [(p50: String, p99: String)]
    var formattedRate: String { throughput > 0 ? String(Int(throughput)) : "–" }

    /// One tab-separated line per row: mode, batch size, messages/s, then p50 and p99 per rate.
    func append(to path: String) throws {
        let line = ([mode.option, String(batchSize), String(throughput)] + latencies.flatMap { [$0.p50, $0.p99] }).joined(separator: "\t") + "\n"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }

    static func load(_ path: String) throws -> [BenchResult] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 5, fields.count % 2 == 1, let mode = BenchMode.allCases.first(where: { $0.option == fields[0] }),
                let batchSize = Int(fields[1]), let throughput = Double(fields[2])
            else { return nil }
            let latencies = stride(from: 3, to: fields.count, by: 2).map { (p50: fields[$0], p99: fields[$0 + 1]) }
            return BenchResult(mode: mode, batchSize: batchSize, throughput: throughput, latencies: latencies)
        }
    }
}

struct BenchContext: Sendable {
    let bootstrapServers: String
    let timings: KafkaConsumerTimings
    let logger: Logger
    let messages: Int
    let size: Int
    let partitions: Int
    /// Records per second offered in the latency phases, one phase per rate.
    let rates: [Int]
    let latencySeconds: Int

    func measure(_ mode: BenchMode, batchSize: Int) async throws -> BenchResult {
        let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        let run = "bench-\(UInt32.random(in: 0..<UInt32.max))"
        let input = "\(run)-in"
        let output = "\(run)-out"
        try await admin.createTopics([KafkaNewTopic(name: input, partitions: partitions), KafkaNewTopic(name: output, partitions: partitions)])
        defer { Task { [admin] in try? await admin.deleteTopics([input, output, "souk.\(run).changelog.v1", "souk.\(run).dlq.v1"]) } }

        let reader = try KafkaConsumer(configuration: consumerConfiguration(group: "\(run)-reader"), logger: logger)
        try await reader.subscribe(topics: [output])
        if mode == .zeroHop {
            // What a hop costs without a stage: the paced producer writes straight to the reader's
            // topic, once the reader has joined its group and read a first record (the other rows
            // warm it up with their throughput phase).
            try await preload(output, count: 1)
            let deadline = ContinuousClock.now + .seconds(60)
            while try await reader.poll(maxMessages: 10, timeout: .milliseconds(100)).isEmpty {
                guard ContinuousClock.now < deadline else { throw BenchError("the zero-hop reader read nothing in 60 s") }
            }
            let latencies = try await measureLatencies(input: output, reader: reader)
            try await reader.close()
            return BenchResult(mode: mode, batchSize: batchSize, throughput: 0, latencies: latencies)
        }
        try await preload(input, count: messages)

        let failure = Mutex<String?>(nil)
        let pipe = Task {
            do {
                try await runPipe(mode, name: run, input: input, output: output, batchSize: batchSize)
            } catch {
                if !Task.isCancelled { failure.withLock { $0 = "\(mode.title): \(error)" } }
                throw error
            }
        }
        // Throughput: from the first to the last output record of the preloaded backlog.
        var received = 0
        var first: ContinuousClock.Instant?
        var last = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(300)
        while received < messages && ContinuousClock.now < deadline {
            // A pipe that died measures nothing: the row fails rather than showing 0.
            if let why = failure.withLock({ $0 }) { throw BenchError(why) }
            // Counted, not copied: the reader shares the two cores with the pipe and the broker.
            let count = try await reader.skim(maxMessages: 10_000, timeout: .milliseconds(100))
            guard count > 0 else { continue }
            if first == nil { first = .now }
            received += count
            last = .now
        }
        let elapsed = (last - (first ?? last))
        let throughput = Double(received) / max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)

        // Latency: a paced producer stamps each record; the reader subtracts on arrival.
        let latencies = try await measureLatencies(input: input, reader: reader)
        pipe.cancel()
        _ = try? await pipe.value
        try await reader.close()
        return BenchResult(mode: mode, batchSize: batchSize, throughput: throughput, latencies: latencies)
    }

    func consumerConfiguration(group: String) -> KafkaConsumerConfiguration {
        KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: group, timings: timings)
    }

    private func preload(_ topic: String, count: Int) async throws {
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers, linger: .milliseconds(20), additional: ["queue.buffering.max.messages": "1000000"]),
            logger: logger
        )
        for index in 0..<count {
            try await producer.produce(
                KafkaProducerMessage(
                    topic: topic, key: Array("key-\(index % 10_000)".utf8), value: BenchItem.value(index: index, size: size), headers: cloudEventHeaders("in-\(index)")
                )
            )
        }
        try await producer.close(timeout: .seconds(120))
    }

    /// p50 and p99 of the hops at each offered rate, one phase after the other.
    private func measureLatencies(input: String, reader: KafkaConsumer) async throws -> [(p50: String, p99: String)] {
        var latencies: [(p50: String, p99: String)] = []
        for rate in rates { latencies.append(try await measureLatency(input: input, reader: reader, rate: rate).percentiles) }
        return latencies
    }

    private func measureLatency(input: String, reader: KafkaConsumer, rate: Int) async throws -> [Double] {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers, linger: .zero), logger: logger)
        let total = rate * latencySeconds
        let sender = Task {
            let start = ContinuousClock.now
            for index in 0..<total {
                let due = start + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
                if due > .now { try await Task.sleep(until: due) }
                let stamp = String(DispatchTime.now().uptimeNanoseconds)
                try await producer.produce(
                    KafkaProducerMessage(
                        topic: input, key: Array("lat-\(index)".utf8), value: BenchItem.value(index: index, size: size),
                        headers: cloudEventHeaders("lat-\(index)") + [KafkaHeader(key: BenchHeader.sent, string: stamp)]
                    )
                )
            }
            try await producer.flush()
        }
        var latencies: [Double] = []
        let deadline = ContinuousClock.now + .seconds(latencySeconds + 60)
        while latencies.count < total && ContinuousClock.now < deadline {
            for message in try await reader.poll(maxMessages: 10_000, timeout: .milliseconds(50)) {
                guard let sent = message.headers.string(BenchHeader.sent).flatMap(UInt64.init) else { continue }
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6)
            }
        }
        try await sender.value
        try await producer.close()
        return latencies
    }

    private func runPipe(_ mode: BenchMode, name: String, input: String, output: String, batchSize: Int) async throws {
        switch mode {
        case .zeroHop:
            return
        case .raw:
            try await rawPipe(group: "\(name)-raw", input: input, output: output)
        case .cPlain, .cTransactional:
            try await cPipe(group: "\(name)-c", input: input, output: output, transactionMilliseconds: mode == .cTransactional ? 100 : 0)
        case .exactlyOnce, .atLeastOnce:
            try await runWorker(PipeRole(name: name, inputTopics: [input], outputTopic: output), exactlyOnce: mode == .exactlyOnce, batchSize: batchSize)
        case .exactlyOnceJSON:
            try await runWorker(JSONRole(name: name, inputTopics: [input], outputTopic: output), exactlyOnce: true, batchSize: batchSize)
        }
    }

    private func runWorker<Role: StreamRole>(_ role: Role, exactlyOnce: Bool, batchSize: Int) async throws {
        let worker = StreamWorker(
            role: role,
            configuration: StreamConfiguration(
                bootstrapServers: bootstrapServers,
                timings: timings,
                batchSize: batchSize,
                exactlyOnce: exactlyOnce,
                consumerOverrides: ["fetch.max.bytes": "52428800", "max.partition.fetch.bytes": "10485760"]
            ),
            logger: logger
        )
        try await worker.run()
    }

    /// The baseline: librdkafka's consumer and producer through the binding, records copied through,
    /// offsets committed now and then, nothing else.
    private func rawPipe(group: String, input: String, output: String) async throws {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(group: group), logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers), logger: logger)
        try await consumer.subscribe(topics: [input])
        while !Task.isCancelled {
            let batch = try await consumer.poll(maxMessages: 500, timeout: .milliseconds(100))
            var last: [KafkaTopicPartition: Int64] = [:]
            for message in batch {
                try await producer.produce(KafkaProducerMessage(topic: output, key: message.key, value: message.value, headers: message.headers))
                last[message.topicPartition] = message.offset
            }
        }
        try? await producer.close(timeout: .seconds(5))
        try? await consumer.close()
    }

    /// The plain C pipe (`Benchmarks/c-pipe/pipe.c`, built by `Benchmarks/run`), until cancelled.
    private func cPipe(group: String, input: String, output: String, transactionMilliseconds: Int) async throws {
        guard let path = ProcessInfo.processInfo.environment["SOUK_BENCH_C_PIPE"] else {
            throw BenchError("SOUK_BENCH_C_PIPE names no C pipe: run the C rows through Benchmarks/run, which builds it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        // The same group and fetch timings as the runtime's rows.
        process.arguments = [bootstrapServers, group, input, output, String(transactionMilliseconds)]
            + timings.properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let exited = AsyncStream<Int32> { continuation in
            process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        }
        try process.run()
        await withTaskCancellationHandler {
            for await _ in exited {}
        } onCancel: {
            process.terminate()
        }
        if !Task.isCancelled { throw BenchError("the C pipe exited early with status \(process.terminationStatus)") }
        // Stopped: wait for it to close its clients while the broker is still up. Left closing when
        // the script took the broker down, it retried for ever (an orphan found 52 minutes on).
        await Task.detached {
            let deadline = ContinuousClock.now + .seconds(15)
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }.value
    }

    func measureRestore(records: Int) async throws -> (keys: Int, seconds: Double) {
        let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        let changelog = "bench-restore-\(UInt32.random(in: 0..<UInt32.max))"
        try await admin.createTopics([KafkaNewTopic(name: changelog, partitions: partitions)])
        defer { Task { [admin] in try? await admin.deleteTopics([changelog]) } }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers, linger: .milliseconds(20), additional: ["queue.buffering.max.messages": "1000000"]),
            logger: logger
        )
        let keys = 10_000
        for index in 0..<records {
            let partition = Int32(index % partitions)
            let stored = StoredState(state: index, applied: ["in:\(partition):\(index)"])
            try await producer.produce(
                KafkaProducerMessage(
                    topic: changelog,
                    partition: partition,
                    key: Array("key-\(index % keys)".utf8),
                    value: try SoukJSON.encode(stored),
                    headers: ChangelogSource(topic: "in", offset: Int64(index)).headers
                )
            )
        }
        try await producer.close(timeout: .seconds(120))
        let committed = Dictionary(uniqueKeysWithValues: (0..<partitions).map { (KafkaTopicPartition(topic: "in", partition: Int32($0)), Int64.max) })
        let restorer = ChangelogRestorer<Int>(changelogTopic: changelog, bootstrapServers: bootstrapServers, logger: logger)
        let started = ContinuousClock.now
        let restored = try await restorer.restore(partitions: (0..<partitions).map(Int32.init), committed: committed)
        let elapsed = ContinuousClock.now - started
        return (restored.values.reduce(0) { $0 + $1.count }, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// The headers every Souk record carries (CloudEvents' Kafka binding and the chain ids), so that the
/// pipes read and copy records as they look in production.
func cloudEventHeaders(_ id: String) -> KafkaHeaders {
    [
        KafkaHeader(key: "ce_id", string: "bench-\(id)"), KafkaHeader(key: "ce_type", string: "souk.bench.Record.v1"),
        KafkaHeader(key: "ce_source", string: "souk/bench"), KafkaHeader(key: "ce_specversion", string: "1.0"),
        KafkaHeader(key: "ce_time", string: "2026-12-07T03:00:00.000Z"), KafkaHeader(key: "content-type", string: "application/octet-stream"),
        KafkaHeader(key: "correlation_id", string: "bench-\(id)"), KafkaHeader(key: "causation_id", string: "bench-upstream"),
    ]
}

extension [Double] {
    var percentiles: (p50: String, p99: String) { (percentile(self, 0.50), percentile(self, 0.99)) }
}

func percentile(_ values: [Double], _ p: Double) -> String {
    guard !values.isEmpty else { return "n/a" }
    let sorted = values.sorted()
    return String(format: "%.1f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
