import App
import Foundation
import Kafka
import Logging

/// The services a test talks to: the stack that `scripts/stack up` started (see `scripts/test`).
///
/// A missing stack is a failure with instructions, never a silent skip.
public struct TestStack: Sendable {
    public let environment: SoukEnvironment
    public let bootstrapServers: String
    public let timings: KafkaConsumerTimings

    public static func load(filePath: String = #filePath) throws -> TestStack {
        // Sources/TestSupport/TestStack.swift → the package root.
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let environment = try SoukEnvironment.load(defaultFile: root.appendingPathComponent(".stack/stack.env").path)
        return TestStack(
            environment: environment,
            bootstrapServers: try environment.kafkaBootstrapServers,
            timings: try environment.kafkaConsumerTimings
        )
    }

    public var logger: Logger {
        var logger = Logger(label: "souk.test")
        logger.logLevel = environment["SOUK_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }

    public func admin() throws -> KafkaAdminClient {
        try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
    }

    public func producerConfiguration() -> KafkaProducerConfiguration {
        KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
    }

    public func consumerConfiguration(
        group: String,
        assignmentStrategy: KafkaConsumerConfiguration.AssignmentStrategy = .range,
        isolationLevel: KafkaConsumerConfiguration.IsolationLevel = .readCommitted
    ) -> KafkaConsumerConfiguration {
        KafkaConsumerConfiguration(
            bootstrapServers: bootstrapServers,
            groupID: group,
            isolationLevel: isolationLevel,
            assignmentStrategy: assignmentStrategy,
            timings: timings
        )
    }

    /// Creates a topic with a name no other test uses and waits until its metadata is visible.
    public func freshTopic(_ prefix: String = "test", partitions: Int = 1) async throws -> String {
        let name = uniqueName(prefix)
        let admin = try admin()
        try await admin.createTopics([KafkaNewTopic(name: name, partitions: partitions)])
        try await eventually("topic \(name) is visible") { try await admin.describeTopic(name)?.partitions == partitions }
        return name
    }
}

/// A name unique to this run: fresh topics and group ids keep tests independent of each other.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt64(Date().timeIntervalSince1970 * 1000) % 100_000_000)-\(UInt32.random(in: 0..<UInt32.max))"
}

/// A unique name of letters and digits only. Its digit runs stay short: one run of 13 to 19 digits
/// passes the Luhn check one time in ten, and the customer role refuses a command that carries what
/// looks like a card number.
public func uniqueWord(_ prefix: String) -> String {
    uniqueName(prefix).replacingOccurrences(of: "-", with: "x")
}

public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let description: String
}

/// Polls `condition` until it holds, failing after `timeout`. Tests wait for conditions, not for time.
public func eventually(
    _ what: String,
    timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try await condition() { return }
        if clock.now >= deadline { throw DeadlineExceeded(description: "timed out after \(timeout) waiting until \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// Polls `consumer` until `done` says the collected records are enough, failing after `timeout`.
public func consume(
    _ consumer: KafkaConsumer,
    timeout: Duration = .seconds(30),
    until done: ([KafkaConsumerMessage]) -> Bool
) async throws -> [KafkaConsumerMessage] {
    var collected: [KafkaConsumerMessage] = []
    try await eventually("enough records were consumed", timeout: timeout, every: .zero) {
        collected += try await consumer.poll(maxMessages: 1000, timeout: .milliseconds(100))
        return done(collected)
    }
    return collected
}
