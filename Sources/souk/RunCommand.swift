import App
import ArgumentParser
import Foundation
import Logging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run roles as long-lived workers, with /health/live, /health/ready and /metrics.",
        discussion: """
            Each role is a consumer group of its own; run several processes of a role with different
            --instance numbers to spread its partitions. SIGTERM finishes the open batch and stops.
            Examples:
              souk run --all --http-port 8080
              souk run --role counter --instance 1 --state-dir /var/lib/souk
            """
    )

    @Option(name: .customLong("role"), help: "A role to run (repeatable). Known: \(RoleRegistry.names.joined(separator: ", ")).")
    var roles: [String] = []
    @Flag(help: "Run every role in this process.") var all = false
    @Option(help: "Worker slot (like a StatefulSet ordinal); the transactional ids derive from it.") var instance = 0
    @Option(help: "Port of the health and metrics endpoints (0: none).") var httpPort = 8080
    @Option(help: "Address the health and metrics endpoints listen on (default: SOUK_HTTP_HOST, else loopback).") var httpHost: String?
    @Option(help: "Directory for local state snapshots.") var stateDir: String?

    func validate() throws {
        if roles.isEmpty && !all { throw ValidationError("name a role with --role, or pass --all") }
    }

    func run() async throws {
        let (environment, logger) = try OperatorContext.load(label: "souk", defaultLevel: .info)
        let runner = RoleRunner(
            roles: all ? RoleRegistry.names : roles,
            instance: instance,
            httpPort: httpPort,
            httpHost: httpHost ?? environment["SOUK_HTTP_HOST"] ?? "127.0.0.1",
            stateDirectory: stateDir.map { URL(fileURLWithPath: $0) }
        )
        try await runner.run(environment: environment, logger: logger)
    }
}
