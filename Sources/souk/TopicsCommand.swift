import App
import ArgumentParser
import Kafka
import Logging

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Inspect the cluster's topics.",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the broker's topics with their partition counts.",
            discussion: """
                Examples:
                  souk topics list
                  SOUK_ENV_FILE=/tmp/stack/stack.env souk topics list
                """
        )

        func run() async throws {
            let environment = try SoukEnvironment.load()
            let admin = try KafkaAdminClient(
                bootstrapServers: try environment.kafkaBootstrapServers,
                timeout: .seconds(10),
                logger: Logger.cli
            )
            let topics = try await admin.listTopics()
            let width = max(5, topics.map(\.name.count).max() ?? 0)
            print("TOPIC".padding(toLength: width, withPad: " ", startingAt: 0) + "  PARTITIONS  REPLICAS")
            for topic in topics {
                print(
                    topic.name.padding(toLength: width, withPad: " ", startingAt: 0)
                        + "  " + String(topic.partitions).leftPadded(10) + "  " + String(topic.replicationFactor).leftPadded(8)
                )
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

extension Logger {
    /// Command-line tools log warnings and worse to stderr, so stdout stays for their output.
    static var cli: Logger {
        var logger = Logger(label: "souk")
        logger.logLevel = .warning
        return logger
    }
}
