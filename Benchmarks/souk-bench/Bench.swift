import App
import ArgumentParser
import Foundation
import Kafka
import Logging
import Streams

/// Measures consume → produce pipes on the broker of the stack in SOUK_ENV_FILE and prints a table.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "souk-bench",
        abstract: "Throughput and per-hop latency of (z) no stage at all (latency only), (a) a raw librdkafka pipe, (r1, r2) a plain C pipe without and with transactions, (b) the runtime exactly-once, (c) the runtime at-least-once."
    )

    @Option(help: "Records preloaded for the throughput phase.") var messages = 300_000
    @Option(help: "Bytes per record value.") var size = 200
    @Option(help: "Partitions of the input and output topics.") var partitions = 6
    @Option(help: "Records per second in the latency phase.") var rate = 2_000
    @Option(help: "Seconds of the latency phase.") var latencySeconds = 5
    @Option(help: "Changelog records for the restore measurement (0: skip).") var restoreRecords = 200_000
    @Option(help: "Runtime batch sizes (records per transaction at most) to measure, comma-separated (the runtime's default is 10000).") var batchSizes = "10000"
    @Option(help: "Pipes to measure: zero, raw, c, ctxn, eos, alo (comma-separated; c and ctxn need SOUK_BENCH_C_PIPE; zero measures latency only).") var modes = "raw,eos,alo"
    @Option(help: "A file of rows measured by earlier runs (each on a fresh broker): the new rows are added, and the table shows them all.")
    var results: String?
    @Option(help: "Log level of the runtime (trace shows each batch's timings).") var logLevel = "warning"
    @Option(help: "Records for the record-path measurement (the runtime's CPU per record, no broker; 0: skip).") var recordPath = 0

    func run() async throws {
        if recordPath > 0 {
            let value = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            let nanoseconds = try await RecordPath.measure(PipeRole(name: "bench", inputTopics: ["in"], outputTopic: "out"), records: recordPath, value: value)
            print("record path, pass-through: \(String(format: "%.0f", nanoseconds)) ns/record")
            return
        }
        var logger = Logger(label: "souk.bench")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let environment = try SoukEnvironment.load()
        let context = BenchContext(
            bootstrapServers: try environment.kafkaBootstrapServers,
            timings: try environment.kafkaConsumerTimings,
            logger: logger,
            messages: messages,
            size: size,
            partitions: partitions,
            rate: rate,
            latencySeconds: latencySeconds
        )
        var rows = try results.map(BenchResult.load) ?? []
        let selected = Set(modes.split(separator: ",").map(String.init))
        let sizes = batchSizes.split(separator: ",").compactMap { Int($0) }
        for mode in BenchMode.allCases where selected.contains(mode.option) {
            for batchSize in mode.isReference ? [0] : sizes {
                let result = try await context.measure(mode, batchSize: batchSize)
                printErr("\(result.title): \(result.formattedRate) msg/s, p50 \(result.p50) ms, p99 \(result.p99) ms")
                rows.append(result)
                if let results { try result.append(to: results) }
            }
        }
        guard !rows.isEmpty else { return try await printRestore(context) }
        print("")
        // Each row beside the references of the same run: the Swift binding's raw pipe and plain C.
        let raw = rows.first { $0.mode == .raw }
        let plainC = rows.first { $0.mode == .cPlain }
        func share(_ row: BenchResult, of reference: BenchResult?) -> String {
            guard let reference, reference.throughput > 0, row.throughput > 0 else { return "–" }
            return String(format: "%.2f", row.throughput / reference.throughput)
        }
        print("| pipe | messages/s | p50 hop ms | p99 hop ms | vs raw | vs plain C |")
        print("|---|---:|---:|---:|---:|---:|")
        for row in rows {
            print("| \(row.title) | \(row.formattedRate) | \(row.p50) | \(row.p99) | \(share(row, of: raw)) | \(share(row, of: plainC)) |")
        }
        print("")
        print("\(messages) records of \(size) B preloaded (10,000 keys), \(partitions) partitions, one worker; latency at \(rate) records/s for \(latencySeconds) s, read by a read_committed consumer.")
        try await printRestore(context)
    }

    func printRestore(_ context: BenchContext) async throws {
        if restoreRecords > 0 {
            let restore = try await context.measureRestore(records: restoreRecords)
            print("")
            print("| changelog restore | records | keys | seconds | records/s |")
            print("|---|---:|---:|---:|---:|")
            print("| \(partitions) partitions | \(restoreRecords) | \(restore.keys) | \(String(format: "%.2f", restore.seconds)) | \(Int(Double(restoreRecords) / restore.seconds)) |")
        }
    }
}

func printErr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
