import App
import Contracts
import Foundation
import Kafka
import Testing
import TestSupport

@Suite(.serialized) struct TopicReconcilerTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    /// The catalog's topics under names unique to this test.
    func isolatedSpecs() -> [TopicSpec] {
        let prefix = uniqueName("t")
        return TopicCatalog.topics.prefix(4).map { spec in
            var spec = spec
            spec.name = "\(prefix).\(spec.name)"
            return spec
        }
    }

    @Test func applyCreatesWhatIsMissingAndCheckThenPasses() async throws {
        let reconciler = TopicReconciler(admin: try stack.admin())
        let specs = isolatedSpecs()
        #expect(try await reconciler.check(specs) == specs.map { .missing($0.name) })
        let applied = try await reconciler.apply(specs)
        #expect(applied == specs.map { .created($0.name) })
        try await eventually("the topics are visible") { try await reconciler.check(specs).isEmpty }
        // Applying again changes nothing.
        #expect(try await reconciler.apply(specs).isEmpty)
    }

    @Test func applyCreatesEveryTopicOfTheContract() async throws {
        let reconciler = TopicReconciler(admin: try stack.admin())
        let findings = try await reconciler.apply(TopicCatalog.topics)
        #expect(findings.allSatisfy { !$0.isDifference }, "\(findings.filter(\.isDifference))")
        try await eventually("every topic exists as declared") { try await reconciler.check(TopicCatalog.topics).isEmpty }
        let names = Set(try await stack.admin().listTopics().map(\.name))
        for context in BoundedContext.allCases {
            #expect(names.contains("souk.\(context.rawValue).commands.v1") && names.contains("souk.\(context.rawValue).events.v1"))
        }
    }

    @Test func checkReportsPartitionAndConfigDifferences() async throws {
        let admin = try stack.admin()
        let reconciler = TopicReconciler(admin: admin)
        var spec = isolatedSpecs()[0]
        try await admin.createTopics([KafkaNewTopic(name: spec.name, partitions: 2, configs: ["cleanup.policy": "compact"])])
        try await eventually("the topic is visible") { try await admin.describeTopic(spec.name) != nil }
        spec.configs["cleanup.policy"] = "delete"
        let findings = try await reconciler.check([spec])
        #expect(findings.contains(.partitions(topic: spec.name, declared: spec.partitions, actual: 2)))
        #expect(findings.contains(.config(topic: spec.name, key: "cleanup.policy", declared: "delete", actual: "compact")))
        #expect(findings.allSatisfy { $0.isDifference })
    }

    @Test func declarationsLoadFromTheTopicsFolder() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let specs = try TopicReconciler.loadSpecs(directory: root.appendingPathComponent("topics"))
        #expect(specs.sorted { $0.name < $1.name } == TopicCatalog.topics.sorted { $0.name < $1.name })
    }
}
