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
            With --api, a share of the orders (--api-share, default 0.25) goes through the HTTP API
            (POST /api/orders with the first key of SOUK_API_KEYS and one Idempotency-Key per order,
            retried with that key while the API is down) instead of straight onto the command topic.
            At the end the inventory's and the order saga's state is restored afresh from their
            changelogs and must agree with the events (--no-verify-state skips it).
            Exit status: 0 when every order ended and every check held, 1 otherwise.
            Examples:
              souk load --orders 500 --rate 50
              souk load --orders 2000 --rate 100 --ledger .stack/state/sandbox-payments.jsonl --json
              souk load --orders 2000 --rate 100 --api http://127.0.0.1:8000 --api-share 0.25
            """
    )

    @Option(help: "How many orders to place.") var orders = 1_000
    @Option(help: "Orders per second.") var rate = 50.0
    @Option(help: "How many products to seed.") var skus = 20
    @Option(help: "Stock per product (default: about what the orders need).") var stock: Int?
    @Option(help: "Share of orders paid with a card that is declined.") var declineRate = 0.02
    @Option(help: "Seconds to wait for every order to end.") var timeout = 300
    @Option(help: "The sandbox payment provider's journal, to audit charges on its side too.") var ledger: String?
    @Option(help: "The HTTP API's address (e.g. http://127.0.0.1:8000), to place a share of the orders through it.") var api: String?
    @Option(help: "Share of the orders placed through the API (0...1; default 0.25 with --api, else 0).") var apiShare: Double?
    @Flag(inversion: .prefixedNo, help: "Restore inventory and saga state from their changelogs at the end and compare it with the events.")
    var verifyState = true
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: "Also write the report as JSON to this file.") var jsonFile: String?

    func validate() throws {
        guard orders > 0 else { throw ValidationError("--orders must be positive") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard skus > 0 else { throw ValidationError("--skus must be positive") }
        if let apiShare {
            guard (0...1).contains(apiShare) else { throw ValidationError("--api-share must be between 0 and 1") }
            guard api != nil || apiShare == 0 else { throw ValidationError("--api-share needs --api") }
        }
        if let api { guard URL(string: api)?.host != nil else { throw ValidationError("--api must be a URL such as http://127.0.0.1:8000") } }
    }

    func run() async throws {
        let (environment, logger) = try OperatorContext.load(label: "souk.load", defaultLevel: .info)
        let options = LoadGenerator.Options(
            orders: orders, rate: rate, skus: skus, stock: stock, declineRate: declineRate, timeout: .seconds(timeout),
            ledger: ledger.map { URL(fileURLWithPath: $0) }, api: try apiOptions(environment), verifyState: verifyState
        )
        let report = try await LoadGenerator(options: options, bootstrapServers: try environment.kafkaBootstrapServers, logger: logger).run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let encoded = try encoder.encode(report)
        if let jsonFile { try encoded.write(to: URL(fileURLWithPath: jsonFile)) }
        print(json ? String(decoding: encoded, as: UTF8.self) : report.table)
        if !report.passed { throw ExitCode(1) }
    }

    private func apiOptions(_ environment: SoukEnvironment) throws -> LoadGenerator.Options.API? {
        guard let api, let base = URL(string: api), (apiShare ?? 0.25) > 0 else { return nil }
        guard let keys = environment["SOUK_API_KEYS"] else {
            throw ValidationError("--api needs SOUK_API_KEYS (name=key[,name=key…]) in the environment or the stack's env file")
        }
        return try LoadGenerator.Options.API(base: base, keys: keys, share: apiShare ?? 0.25)
    }
}
