import App
import Foundation
import ArgumentParser
import Counting
import Logging
import ServiceLifecycle
import Streams

/// Runs the diagnostic counting role on the worker runtime (used by the runtime's tests and benchmark).
@main
struct CounterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "souk-counter",
        abstract: "Run the diagnostic counting role: increments in, running counts out, exactly once.",
        discussion: """
            Example:
              souk-counter --input counts.in --output counts.out --instance 0
            Reads KAFKA_BOOTSTRAP_SERVERS and the consumer timings from the environment or SOUK_ENV_FILE.
            """
    )

    @Option(help: "Topic of increments ({\"amount\": N} keyed by counter); repeat it for several, co-partitioned.") var input: [String]
    @Option(help: "Topic the running counts go to.") var output: String
    @Option(help: "Role name (names the group, changelog and dead-letter topics).") var role = "counter"
    @Option(help: "Worker slot; the transactional id is derived from it.") var instance = 0
    @Option(help: "Records per transaction at most.") var batchSize = 10_000
    @Option(help: "Milliseconds a batch keeps collecting after its first record.") var commitIntervalMs = 100
    @Option(help: "Milliseconds of handling per poll before the rest is read again.") var batchTimeBoundMs = 3_000
    @Option(help: "Records larger than this go to the dead-letter topic.") var maxMessageBytes = 1_048_576
    @Flag(help: "Run without transactions (at-least-once).") var atLeastOnce = false
    @Option(help: "Port of /health/live, /health/ready and /metrics (0: none).") var httpPort = 0
    @Option(help: "Directory for local state snapshots (none: restore from the whole changelog).") var stateDir: String?

    func run() async throws {
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        let environment = try SoukEnvironment.load()
        var logger = Logger(label: "souk.counter")
        logger.logLevel = environment["SOUK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        var configuration = try environment.streamConfiguration(instance: instance, stateDirectory: stateDir.map { URL(fileURLWithPath: $0) })
        configuration.batchSize = batchSize
        configuration.commitInterval = .milliseconds(commitIntervalMs)
        configuration.exactlyOnce = !atLeastOnce
        configuration.maxMessageBytes = maxMessageBytes
        configuration.batchTimeBound = .milliseconds(batchTimeBoundMs)
        configuration.consumerOverrides = environment["SOUK_KAFKA_DEBUG"].map { ["debug": $0] } ?? [:]
        let role = CountingRole(name: role, inputTopics: input, outputTopic: output)
        try await WorkerProcess.serve(httpPort: httpPort, logger: logger) { health, _ in
            [StreamWorker(role: role, configuration: configuration, logger: logger, health: health)]
        }
    }
}
