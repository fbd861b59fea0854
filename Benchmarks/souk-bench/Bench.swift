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
        abstract: "Throughput and per-hop latency of (z) no stage at all (latency only), (a) a raw librdkafka pipe, (r1, r2) a plain C pipe without and with transactions, (b) the runtime exactly-once on bytes, (d) exactly-once with JSON and dedupe, (c) the runtime at-least-once."
    )

    @Option(help: "Records preloaded for the throughput phase.") var messages = 300_000
    @Option(help: "Bytes per record value.") var size = 200
    @Option(help: "Partitions of the input and output topics.") var partitions = 6
    @Option(help: "Records per second offered in the latency phases, comma-separated: one phase per rate.") var rates = "1000,10000"
    @Option(help: "Seconds of the latency phase.") var latencySeconds = 5
    @Option(help: "Changelog records for the restore measurement (0: skip).") var restoreRecords = 200_000
    @Option(help: "Runtime batch sizes (records per transaction at most) to measure, comma-separated (the runtime's default is 10000).") var batchSizes = "10000"
    @Option(help: "Pipes to measure: zero, raw, c, ctxn, eos, eosj, alo (comma-separated; c and ctxn need SOUK_BENCH_C_PIPE; zero measures latency only).") var modes = "raw,eos,eosj,alo"
    @Option(help: "A file of rows measured by earlier runs (each on a fresh broker): the new rows are added, and the table shows them all.")
    var results: String?
    @Option(help: "Log level of the runtime (trace shows each batch's timings).") var logLevel = "warning"
    @Option(help: "Records for the record-path measurement (the runtime's CPU per record, no broker; 0: skip).") var recordPath = 0

    var offeredRates: [Int] { rates.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        if recordPath > 0 {
            let pipe = try await RecordPath.measure(PipeRole(name: "bench", inputTopics: ["in"], outputTopic: "out"), records: recordPath, size: size)
            let json = try await RecordPath.measure(JSONRole(name: "bench", inputTopics: ["in"], outputTopic: "out"), records: recordPath, size: size)
            print("record path, bytes passed through: \(String(format: "%.0f", pipe)) ns/record")
            print("record path, JSON decoded and re-encoded, dedupe on: \(String(format: "%.0f", json)) ns/record")
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
            rates: offeredRates,
            latencySeconds: latencySeconds
        )
        var rows = try results.map(BenchResult.load) ?? []
        let selected = Set(modes.split(separator: ",").map(String.init))
        let sizes = batchSizes.split(separator: ",").compactMap { Int($0) }
        for mode in BenchMode.allCases where selected.contains(mode.option) {
            for batchSize in mode.isReference ? [0] : sizes {
                let result = try await context.measure(mode, batchSize: batchSize)
                printErr("\(result.title): \(result.formattedRate) msg/s, hop p50/p99 ms per rate \(result.latencies)")
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
        let cTransactional = rows.first { $0.mode == .cTransactional }
        let rateNames = offeredRates.map { $0 >= 1000 && $0 % 1000 == 0 ? "\($0 / 1000)k/s" : "\($0)/s" }
        print("| pipe | messages/s | " + rateNames.map { "p50 / p99 hop ms at \($0)" }.joined(separator: " | ") + " | vs raw | vs plain C | vs C with transactions |")
        print("|---|---:|" + String(repeating: "---:|", count: rateNames.count + 3))
        for row in rows {
            let hops = offeredRates.indices.map { index in
                index < row.latencies.count ? "\(row.latencies[index].p50) / \(row.latencies[index].p99)" : "–"
            }
            print("| \(row.title) | \(row.formattedRate) | " + hops.joined(separator: " | ") + " | \(share(row, of: raw)) | \(share(row, of: plainC)) | \(share(row, of: cTransactional)) |")
        }
        print("")
        print(
            "\(messages) records of \(size) B (JSON) preloaded (10,000 keys), \(partitions) partitions, one worker; latency at "
                + rateNames.joined(separator: " and ") + " offered for \(latencySeconds) s each, read by a read_committed consumer."
        )
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
