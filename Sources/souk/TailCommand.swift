import App
import ArgumentParser
import Foundation
import Kafka
import Logging

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow topics: time, partition@offset, key, type, correlation id and a compact body per record.",
        discussion: """
            Reads committed records only (pass --uncommitted to see what open or aborted transactions
            wrote). No consumer group is joined and nothing is committed.
            --from takes earliest, latest (the default), an offset (per partition), an RFC 3339 time, or
            a duration back from now such as 10m or 2h.
            Examples:
              souk tail souk.order.events.v1
              souk tail souk.order.events.v1 souk.payment.events.v1 --from 1h --type PaymentFailed
              souk tail souk.inventory.events.v1 --from earliest --key TEA-OOLONG-100 --no-follow --json
            Exit status: 0, 2 for bad arguments, 3 for an unknown topic, 1 when the broker cannot be reached.
            """
    )

    @Argument(help: "Topics to follow.") var topics: [String]
    @Option(help: "Where to start: earliest, latest, OFFSET, TIME or a duration back (10m).") var from = "latest"
    @Option(help: "Only records with this key.") var key: String?
    @Option(help: "Only records of this type (full ce_type or its short name; repeatable).") var type: [String] = []
    @Flag(help: "One JSON object per line.") var json = false
    @Flag(inversion: .prefixedNo, help: "Keep following after the end.") var follow = true
    @Option(help: "Stop after this many records.") var limit: Int?
    @Flag(help: "Also show records of open or aborted transactions.") var uncommitted = false

    func validate() throws {
        if TailStart(from) == nil { throw ValidationError("--from must be earliest, latest, an offset, an RFC 3339 time or a duration like 10m, got '\(from)'") }
    }

    func run() async throws {
        let (environment, logger) = try OperatorContext.load()
        let tail = TopicTail(topics: topics, start: TailStart(from)!, key: key, types: type, follow: follow, readUncommitted: uncommitted)
        let formatter = RecordFormatter(colour: OperatorContext.isTerminal)
        try await OperatorContext.running {
            try await tail.run(bootstrapServers: try environment.kafkaBootstrapServers, logger: logger, limit: limit) { message in
                OperatorContext.write(json ? formatter.json(message) : formatter.line(message))
            }
        }
    }
}

/// What every operator command needs: the environment, a quiet logger, and exits scripts can rely on.
enum OperatorContext {
    /// Logging to stderr at `SOUK_LOG_LEVEL` (else `defaultLevel`), and the environment: what every
    /// `souk` command starts with.
    static func load(label: String = "souk.ops", defaultLevel: Logger.Level = .error) throws -> (SoukEnvironment, Logger) {
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        let environment = try SoukEnvironment.load()
        var logger = Logger(label: label)
        logger.logLevel = environment["SOUK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        return (environment, logger)
    }

    /// Writes a line at once (unbuffered), so that a pipe sees each record as it comes.
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    /// Runs `body`, turning operator errors into their exit status with the message on stderr.
    static func running(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as OperatorError {
            FileHandle.standardError.write(Data("souk: \(error.description)\n".utf8))
            throw ExitCode(error.exitCode)
        } catch let error as KafkaError {
            FileHandle.standardError.write(Data("souk: the broker cannot be reached or refused: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
