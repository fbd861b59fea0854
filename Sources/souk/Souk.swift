import ArgumentParser

@main
struct Souk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "souk",
        abstract: "Souk: a Kafka-native commerce backend.",
        subcommands: [RunCommand.self, OpenAPICommand.self, TopicsCommand.self, LoadCommand.self, TailCommand.self, LagCommand.self, SagaCommand.self, ReplayCommand.self, DlqCommand.self, RebuildCommand.self]
    )
}
