import App
import ArgumentParser
import Contracts
import Foundation
import Kafka
import Logging

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "The topics of Souk's contract and of the cluster.",
        subcommands: [List.self, Apply.self, Check.self, Export.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "Folder of the topic declarations.") var dir = "topics"
    }

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
            let admin = try makeAdmin()
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

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the declared topics that are missing; report the ones that differ.",
            discussion: """
                Replication is capped at the number of brokers. Partitions and configs of existing topics are
                reported, not changed. Exit code 0 when the cluster matches afterwards, 1 when something differs.
                Example:
                  souk topics apply --dir topics
                """
        )
        @OptionGroup var options: Options

        func run() async throws {
            let findings = try await TopicReconciler(admin: makeAdmin()).apply(TopicReconciler.loadSpecs(directory: URL(fileURLWithPath: options.dir)))
            report(findings, clean: "every declared topic exists as declared")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the cluster with the declared topics; exit 1 when they disagree.",
            discussion: """
                Example:
                  souk topics check || souk topics apply
                """
        )
        @OptionGroup var options: Options

        func run() async throws {
            let findings = try await TopicReconciler(admin: makeAdmin()).check(TopicReconciler.loadSpecs(directory: URL(fileURLWithPath: options.dir)))
            report(findings, clean: "the cluster matches \(options.dir)/")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write topics/ (YAML per topic, JSON Schema per message, README) from the Swift catalog.",
            discussion: """
                Example:
                  souk topics export --dir topics && git diff --stat topics
                """
        )
        @OptionGroup var options: Options

        func run() throws {
            let root = URL(fileURLWithPath: options.dir)
            let files = try ContractExport.files()
            try FileManager.default.createDirectory(at: root.appendingPathComponent("schemas"), withIntermediateDirectories: true)
            // Remove declarations the catalog no longer has.
            for folder in ["", "schemas"] {
                let directory = root.appendingPathComponent(folder)
                for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
                where (name.hasSuffix(".yaml") || name.hasSuffix(".json")) && files[folder.isEmpty ? name : "\(folder)/\(name)"] == nil {
                    try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                }
            }
            for (path, contents) in files {
                try contents.write(to: root.appendingPathComponent(path), atomically: true, encoding: .utf8)
            }
            print("wrote \(files.count) files to \(options.dir)/")
        }
    }
}

private func makeAdmin() throws -> KafkaAdminClient {
    let environment = try SoukEnvironment.load()
    return try KafkaAdminClient(bootstrapServers: try environment.kafkaBootstrapServers, timeout: .seconds(10), logger: Logger.cli)
}

private func report(_ findings: [TopicReconciler.Finding], clean: String) {
    for finding in findings { print(finding) }
    if findings.contains(where: \.isDifference) {
        FileHandle.standardError.write(Data("topics differ from their declarations\n".utf8))
        Foundation.exit(1)
    }
    print(clean)
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
