import Contracts
import Foundation
import Kafka
import Yams

/// Brings the cluster in line with `topics/`: creates missing topics, reports the ones that differ.
public struct TopicReconciler: Sendable {
    public enum Finding: Sendable, Equatable, CustomStringConvertible {
        case missing(String)
        case created(String)
        case partitions(topic: String, declared: Int, actual: Int)
        case config(topic: String, key: String, declared: String, actual: String?)

        public var description: String {
            switch self {
            case .missing(let topic): "\(topic): missing"
            case .created(let topic): "\(topic): created"
            case .partitions(let topic, let declared, let actual): "\(topic): \(actual) partitions, declared \(declared)"
            case .config(let topic, let key, let declared, let actual): "\(topic): \(key) is \(actual ?? "unset"), declared \(declared)"
            }
        }

        /// Whether the cluster still disagrees with the declaration after this finding.
        public var isDifference: Bool {
            if case .created = self { return false }
            return true
        }
    }

    let admin: KafkaAdminClient

    public init(admin: KafkaAdminClient) {
        self.admin = admin
    }

    /// Reads every `*.yaml` topic declaration in `directory`.
    public static func loadSpecs(directory: URL) throws -> [TopicSpec] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        guard !files.isEmpty else { throw SoukConfigurationError("no topic declarations (*.yaml) in \(directory.path)") }
        return try files.map { file in
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            do {
                return try YAMLDecoder().decode(TopicSpec.self, from: text)
            } catch {
                throw SoukConfigurationError("\(file): \(error)")
            }
        }
    }

    /// Compares without changing anything.
    public func check(_ specs: [TopicSpec]) async throws -> [Finding] {
        try await reconcile(specs, create: false)
    }

    /// Creates what is missing (replication capped at the number of brokers) and reports what differs.
    public func apply(_ specs: [TopicSpec]) async throws -> [Finding] {
        try await reconcile(specs, create: true)
    }

    private func reconcile(_ specs: [TopicSpec], create: Bool) async throws -> [Finding] {
        let existing = Dictionary(uniqueKeysWithValues: try await admin.listTopics().map { ($0.name, $0) })
        var findings: [Finding] = []
        var toCreate: [KafkaNewTopic] = []
        let brokers = try await admin.brokerCount()
        for spec in specs {
            guard let topic = existing[spec.name] else {
                if create {
                    toCreate.append(
                        KafkaNewTopic(
                            name: spec.name,
                            partitions: spec.partitions,
                            replicationFactor: min(spec.replicationFactor, brokers),
                            configs: Self.capped(spec.configs, brokers: brokers)
                        )
                    )
                } else {
                    findings.append(.missing(spec.name))
                }
                continue
            }
            if topic.partitions != spec.partitions {
                findings.append(.partitions(topic: spec.name, declared: spec.partitions, actual: topic.partitions))
            }
            let actual = try await admin.describeTopicConfigs(spec.name, includeDefaults: true)
            let declared = Self.capped(spec.configs, brokers: brokers)
            for key in declared.keys.sorted() where actual[key] != declared[key] {
                findings.append(.config(topic: spec.name, key: key, declared: declared[key]!, actual: actual[key]))
            }
        }
        if !toCreate.isEmpty {
            try await admin.createTopics(toCreate)
            findings += toCreate.map { .created($0.name) }
        }
        return findings
    }

    /// `min.insync.replicas` cannot exceed the brokers there are (a local one-broker cluster).
    static func capped(_ configs: [String: String], brokers: Int) -> [String: String] {
        var configs = configs
        if let minimum = configs["min.insync.replicas"].flatMap(Int.init), minimum > brokers, brokers > 0 {
            configs["min.insync.replicas"] = String(brokers)
        }
        return configs
    }
}
