import App
import ArgumentParser
import Foundation
import Kafka

struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Per consumer group and partition: committed offset, end offset, lag and the member holding it.",
        discussion: """
            End offsets are what a read_committed reader can reach (taken from a fetch, see the README on
            the local broker), so the lag of exactly-once workers, which commit inside their
            transactions, is exact. Without --group, every souk-* group.
            Examples:
              souk lag
              souk lag --group souk-order-saga --json
            Exit status: 0, 3 for an unknown group, 1 when the broker cannot be reached.
            """
    )

    @Option(help: "One consumer group.") var group: String?
    @Flag(help: "JSON instead of a table.") var json = false

    func run() async throws {
        let (environment, logger) = try OperatorContext.load()
        try await OperatorContext.running {
            let admin = try KafkaAdminClient(bootstrapServers: try environment.kafkaBootstrapServers, logger: logger)
            let report = try await GroupLagReport.collect(admin: admin, group: group)
            OperatorContext.write(json ? report.json : report.table)
        }
    }
}
