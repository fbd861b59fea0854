import App
import ArgumentParser
import Foundation
import Logging

struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Place orders against a seeded catalog and report orders/s, latency and the invariants.",
        discussion: """
            Seeds products and stock under a fresh run id, places orders (1–3 lines, 1–3 items each, a
            share of declined cards) at the given rate, plays the carrier for every assigned parcel, and
            waits until every order has ended. Reports orders/s completed, p50/p95/p99 from the command to
            the terminal event, the count per terminal state, and whether the invariants held (one
            terminal state per order, no double capture, refunds within captures, stock that adds up).
            Exit status: 0 when every order ended and every check held, 1 otherwise.
            Examples:
              souk load --orders 500 --rate 50
              souk load --orders 2000 --rate 100 --ledger .stack/state/sandbox-payments.jsonl --json
            """
    )

    @Option(help: "How many orders to place.") var orders = 1_000
    @Option(help: "Orders per second.") var rate = 50.0
    @Option(help: "How many products to seed.") var skus = 20
    @Option(help: "Stock per product (default: about what the orders need).") var stock: Int?
    @Option(help: "Share of orders paid with a card that is declined.") var declineRate = 0.02
    @Option(help: "Seconds to wait for every order to end.") var timeout = 300
    @Option(help: "The sandbox payment provider's journal, to audit charges on its side too.") var ledger: String?
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard orders > 0 else { throw ValidationError("--orders must be positive") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard skus > 0 else { throw ValidationError("--skus must be positive") }
    }

    func run() async throws {
        let (environment, logger) = try OperatorContext.load(label: "souk.load", defaultLevel: .info)
        let options = LoadGenerator.Options(
            orders: orders, rate: rate, skus: skus, stock: stock, declineRate: declineRate, timeout: .seconds(timeout),
            ledger: ledger.map { URL(fileURLWithPath: $0) }
        )
        let report = try await LoadGenerator(options: options, bootstrapServers: try environment.kafkaBootstrapServers, logger: logger).run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table)
        }
        if !report.passed { throw ExitCode(1) }
    }
}
