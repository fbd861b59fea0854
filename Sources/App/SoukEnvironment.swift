import Foundation
import Kafka

/// Configuration values from the process environment, layered over the stack's env file.
///
/// `scripts/stack up` writes `stack.env` (addresses and the local broker's consumer timings); the
/// binary and the tests read it from `SOUK_ENV_FILE`, else from `.stack/stack.env` under the working
/// directory. Variables set in the process win over the file.
public struct SoukEnvironment: Sendable {
    public var values: [String: String]
    /// The env file that was read, if any.
    public var file: String?

    public init(values: [String: String], file: String? = nil) {
        self.values = values
        self.file = file
    }

    public static func load(
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        defaultFile: String = FileManager.default.currentDirectoryPath + "/.stack/stack.env"
    ) throws -> SoukEnvironment {
        let path = processEnvironment["SOUK_ENV_FILE"] ?? defaultFile
        var values: [String: String] = [:]
        var file: String? = nil
        if FileManager.default.fileExists(atPath: path) {
            values = try parse(String(contentsOfFile: path, encoding: .utf8))
            file = path
        }
        values.merge(processEnvironment) { _, process in process }
        return SoukEnvironment(values: values, file: file)
    }

    /// `KEY=VALUE` lines; blank lines and `#` comments are skipped, surrounding quotes removed.
    public static func parse(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw SoukConfigurationError("line \(number + 1) of the env file is not KEY=VALUE: '\(line)'")
            }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<equals])] = value
        }
        return values
    }

    public subscript(key: String) -> String? { values[key] }

    /// A yes/no setting: `false`, `0` and `no` (any case) say no, any other value yes.
    func flag(_ key: String, default value: Bool) -> Bool {
        values[key].map { !["false", "0", "no"].contains($0.lowercased()) } ?? value
    }

    public func require(_ key: String) throws -> String {
        guard let value = values[key], !value.isEmpty else {
            throw SoukConfigurationError(
                "\(key) is not set: start the local stack with `scripts/stack up` (it writes .stack/stack.env) "
                    + "or set \(key) / SOUK_ENV_FILE"
            )
        }
        return value
    }

    public var kafkaBootstrapServers: String {
        get throws { try require("KAFKA_BOOTSTRAP_SERVERS") }
    }

    /// `KAFKA_CONFIRM_COMMITS` (default true: needed on the local broker, see
    /// `StreamConfiguration.confirmCommits`; Apache Kafka can turn it off).
    public var kafkaConfirmCommits: Bool {
        flag("KAFKA_CONFIRM_COMMITS", default: true)
    }

    /// `KAFKA_END_PREDECESSOR_EPOCHS` (default true: needed on the local broker, see
    /// `StreamConfiguration.endPredecessorEpochs`; Apache Kafka can turn it off).
    public var kafkaEndPredecessorEpochs: Bool {
        flag("KAFKA_END_PREDECESSOR_EPOCHS", default: true)
    }

    /// `KAFKA_VERIFY_OFFSET_GAPS` (default true: needed on the local broker, see
    /// `StreamConfiguration.verifyOffsetGaps`; Apache Kafka must turn it off).
    public var kafkaVerifyOffsetGaps: Bool {
        flag("KAFKA_VERIFY_OFFSET_GAPS", default: true)
    }

    /// `KAFKA_LEAVE_GROUP_ON_CLOSE` (default true; the local stack sets false, see `StreamConfiguration`).
    public var kafkaLeaveGroupOnClose: Bool {
        flag("KAFKA_LEAVE_GROUP_ON_CLOSE", default: true)
    }

    public var kafkaConsumerTimings: KafkaConsumerTimings {
        get throws { try KafkaConsumerTimings(environment: values) }
    }
}

public struct SoukConfigurationError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension SoukEnvironment {
    /// A number of seconds from `key`, or `fallback`; anything else is a configuration error.
    public func seconds(_ key: String, default fallback: TimeInterval) throws -> TimeInterval {
        guard let text = values[key] else { return fallback }
        guard let value = TimeInterval(text), value > 0 else { throw SoukConfigurationError("\(key) must be a positive number of seconds, got '\(text)'") }
        return value
    }

    /// The saga's step deadlines: `SOUK_SAGA_{RESERVATION,PAYMENT,SHIPMENT,DELIVERY}_SECONDS`.
    public var sagaDeadlines: OrderSagaDeadlineSettings {
        get throws {
            OrderSagaDeadlineSettings(
                reservation: try seconds("SOUK_SAGA_RESERVATION_SECONDS", default: 30),
                payment: try seconds("SOUK_SAGA_PAYMENT_SECONDS", default: 60),
                shipment: try seconds("SOUK_SAGA_SHIPMENT_SECONDS", default: 60),
                delivery: try seconds("SOUK_SAGA_DELIVERY_SECONDS", default: 14 * 86_400)
            )
        }
    }
}

public struct OrderSagaDeadlineSettings: Sendable, Equatable {
    public var reservation, payment, shipment, delivery: TimeInterval
}
