import App
import Testing

@testable import Kafka

@Suite struct KafkaConfigurationTests {
    @Test func producerDefaultsAreIdempotentWithJavaPartitioning() {
        let config = KafkaProducerConfiguration(bootstrapServers: "b:9092").config()
        #expect(config["bootstrap.servers"] == "b:9092")
        #expect(config["enable.idempotence"] == "true")
        #expect(config["partitioner"] == "murmur2_random")
        #expect(config["transactional.id"] == nil)
    }

    @Test func transactionalIDForcesIdempotence() {
        let configuration = KafkaProducerConfiguration(bootstrapServers: "b", enableIdempotence: false)
        #expect(configuration.config()["enable.idempotence"] == "false")
        let config = configuration.config(transactionalID: "souk-inventory-0")
        #expect(config["transactional.id"] == "souk-inventory-0")
        #expect(config["enable.idempotence"] == "true")
    }

    @Test func additionalPropertiesWin() {
        let configuration = KafkaProducerConfiguration(
            bootstrapServers: "b",
            linger: .milliseconds(7),
            additional: ["linger.ms": "20", "compression.type": "zstd"]
        )
        let config = configuration.config()
        #expect(config["linger.ms"] == "20")
        #expect(config["compression.type"] == "zstd")
    }

    @Test func consumerDefaultsReadCommittedAndNeverAutoCommit() {
        let config = KafkaConsumerConfiguration(bootstrapServers: "b", groupID: "g").config
        #expect(config["isolation.level"] == "read_committed")
        #expect(config["enable.auto.commit"] == "false")
        #expect(config["enable.auto.offset.store"] == "false")
        #expect(config["auto.offset.reset"] == "earliest")
        #expect(config["partition.assignment.strategy"] == "range")
        // Kafka's own timings unless configured.
        #expect(config["session.timeout.ms"] == nil)
        #expect(config["fetch.wait.max.ms"] == nil)
    }

    @Test func timingsComeFromTheEnvironment() throws {
        let timings = try KafkaConsumerTimings(environment: [
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "KAFKA_FETCH_WAIT_MAX_MS": "25",
        ])
        #expect(timings.sessionTimeout == .seconds(2))
        #expect(timings.maxPollInterval == nil)
        let config = KafkaConsumerConfiguration(bootstrapServers: "b", groupID: "g", timings: timings).config
        #expect(config["session.timeout.ms"] == "2000")
        #expect(config["heartbeat.interval.ms"] == "500")
        #expect(config["fetch.wait.max.ms"] == "25")
        #expect(config["max.poll.interval.ms"] == nil)
    }

    @Test(arguments: ["abc", "-5", "1.5", ""])
    func invalidTimingsAreRejected(_ value: String) {
        #expect(throws: KafkaError.self) {
            try KafkaConsumerTimings(environment: ["KAFKA_SESSION_TIMEOUT_MS": value])
        }
    }

    @Test func secretsAreRedacted() {
        let config = KafkaConfig(["sasl.password": "hunter2", "ssl.key.password": "x", "client.id": "souk"])
        #expect(!config.redactedDescription.contains("hunter2"))
        #expect(config.redactedDescription.contains("client.id=souk"))
        #expect(config.redactedDescription.contains("sasl.password=[REDACTED]"))
    }

    @Test func durationsRenderAsWholeMilliseconds() {
        #expect(Duration.milliseconds(1500).wholeMilliseconds == 1500)
        #expect(Duration.seconds(2).timeoutMilliseconds == 2000)
        #expect(Duration.seconds(-1).timeoutMilliseconds == 0)
    }

    @Test func invalidPropertyIsAConfigurationError() {
        let configuration = KafkaProducerConfiguration(bootstrapServers: "b", additional: ["no.such.property": "1"])
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: configuration, logger: .init(label: "test"))
        }
        #expect(error?.kind == .configuration)
        #expect(error?.message.contains("no.such.property") == true)
    }
}

@Suite struct SoukEnvironmentTests {
    @Test func parsesTheStackEnvFile() throws {
        let values = try SoukEnvironment.parse(
            """
            # written by scripts/stack
            KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092

            POSTGRES_URL="postgres://souk@127.0.0.1:5432/souk"
            """
        )
        #expect(values == ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", "POSTGRES_URL": "postgres://souk@127.0.0.1:5432/souk"])
    }

    @Test func rejectsLinesWithoutAnEqualsSign() {
        #expect(throws: SoukConfigurationError.self) { try SoukEnvironment.parse("JUST_A_NAME") }
    }

    @Test func missingKeysSayHowToStartTheStack() {
        let environment = SoukEnvironment(values: [:])
        let error = #expect(throws: SoukConfigurationError.self) { try environment.kafkaBootstrapServers }
        #expect(error?.description.contains("scripts/stack up") == true)
    }
}
