import App
import ArgumentParser
import Foundation
import Kafka

struct SagaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saga",
        abstract: "An order's timeline across every topic: commands, events, answers, compensations and timers.",
        discussion: """
            Built from the topics and the saga's own changelog record, not from a database: each step
            with its time and the delay since the previous one, then the status and what the saga
            waits for. Colour when stdout is a terminal (NO_COLOR turns it off).
            Examples:
              souk saga order-1
              souk saga order-1 --follow
            Exit status: 0, 3 when no record names the order, 1 when the broker cannot be reached.
            """
    )

    @Argument(help: "The order id.") var orderId: String
    @Flag(help: "Print the timeline again whenever it changes, until interrupted.") var follow = false

    func run() async throws {
        let (environment, logger) = try OperatorContext.load()
        try await OperatorContext.running {
            let servers = try environment.kafkaBootstrapServers
            var printed = -1
            repeat {
                let timeline = try await SagaTimeline().build(orderId: orderId, bootstrapServers: servers, logger: logger)
                if timeline.steps.isEmpty && timeline.status == nil && !follow { throw OperatorError.invalid("no record names order \(orderId)") }
                if timeline.steps.count != printed {
                    if printed >= 0 { OperatorContext.write("") }
                    OperatorContext.write(SagaTimeline.render(timeline, colour: OperatorContext.isTerminal))
                    printed = timeline.steps.count
                }
                if follow { try await Task.sleep(for: .seconds(1)) }
            } while follow
        }
    }
}

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Reset an inactive consumer group's offsets, showing the plan first.",
        discussion: """
            --to takes earliest, latest, an offset, an RFC 3339 time or a duration back (2h). Refuses
            while the group has live members: stop its workers first. Workers restore their state from
            their changelog, so replaying a role's input re-applies records it already applied only if
            their ids were forgotten; replaying the projector rebuilds nothing twice (the archive is
            unique on event id).
            Examples:
              souk replay --group souk-projector-readmodels --to earliest --dry-run
              souk replay --group souk-order-saga --topic souk.order.commands.v1 --to 2026-11-25T10:00:00Z
            Exit status: 0, 2 for bad arguments, 3 for an unknown group or topic, 4 while the group is active.
            """
    )

    @Option(help: "The consumer group.") var group: String
    @Option(help: "earliest, latest, OFFSET, TIME or a duration back.") var to: String
    @Option(help: "Only this topic's partitions.") var topic: String?
    @Flag(help: "Show the plan without changing anything.") var dryRun = false

    func validate() throws {
        if KafkaOffsetTarget(argument: to) == nil { throw ValidationError("--to must be earliest, latest, an offset, an RFC 3339 time or a duration like 2h") }
    }

    func run() async throws {
        let (environment, logger) = try OperatorContext.load()
        try await OperatorContext.running {
            let replay = GroupReplay(admin: try KafkaAdminClient(bootstrapServers: try environment.kafkaBootstrapServers, logger: logger))
            let moves = try await replay.plan(group: group, target: KafkaOffsetTarget(argument: to)!, topic: topic)
            OperatorContext.write(GroupReplay.table(moves))
            if dryRun {
                OperatorContext.write("dry run: nothing changed")
            } else {
                try await replay.apply(group: group, moves)
                OperatorContext.write("group \(group): \(moves.count) partition(s) moved")
            }
        }
    }
}

struct DlqCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Show a role's dead letters, and re-inject chosen ones.",
        subcommands: [List.self, Redrive.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dead letters of a role with their reasons and where they came from.",
            discussion: "Example: souk dlq list payment\nExit status: 0, 3 when the role has no dead-letter topic."
        )
        @Argument(help: "The role (its topic is souk.<role>.dlq.v1).") var role: String
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let (environment, logger) = try OperatorContext.load()
            try await OperatorContext.running {
                let tool = DeadLetterTool(role: role, bootstrapServers: try environment.kafkaBootstrapServers, logger: logger)
                let letters = try await tool.list()
                let formatter = RecordFormatter(colour: false)
                for letter in letters { OperatorContext.write(json ? formatter.json(letter.message) : letter.line) }
                if !json { OperatorContext.write("\(letters.count) dead letter(s) on \(tool.topic)") }
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-inject dead letters into their source topic in one transaction.",
            discussion: """
                Each record goes back with its key, body and headers (its id too, so the role applies it
                once however often it is redriven), plus souk_redriven_from=<dlq topic>:<id>.
                Examples:
                  souk dlq redrive payment --id 0:12 --dry-run
                  souk dlq redrive payment --all
                Exit status: 0, 2 for an unknown id or missing choice, 3 when the role has no dead-letter topic.
                """
        )
        @Argument(help: "The role.") var role: String
        @Option(help: "A dead letter's id as `souk dlq list` shows it (repeatable).") var id: [String] = []
        @Flag(help: "Every dead letter of the role.") var all = false
        @Flag(help: "Show what would be redriven without writing.") var dryRun = false

        func validate() throws {
            if id.isEmpty == !all { throw ValidationError("choose dead letters with --id, or pass --all") }
        }

        func run() async throws {
            let (environment, logger) = try OperatorContext.load()
            try await OperatorContext.running {
                let tool = DeadLetterTool(role: role, bootstrapServers: try environment.kafkaBootstrapServers, logger: logger)
                let letters = try await tool.plan(ids: id)
                for letter in letters { OperatorContext.write("\(dryRun ? "would redrive" : "redrive") \(letter.line)") }
                if !dryRun { try await tool.redrive(letters) }
                OperatorContext.write(dryRun ? "dry run: nothing written" : "\(letters.count) dead letter(s) redriven")
            }
        }
    }
}
