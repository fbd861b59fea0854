import CRdKafka
import Testing

@testable import Kafka

@Suite struct KafkaErrorTests {
    @Test(arguments: [
        (RD_KAFKA_RESP_ERR__FENCED, KafkaError.Kind.fatal),
        (RD_KAFKA_RESP_ERR_PRODUCER_FENCED, .fatal),
        (RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, .fatal),
        (RD_KAFKA_RESP_ERR__FATAL, .fatal),
        (RD_KAFKA_RESP_ERR__TIMED_OUT, .retriable),
        (RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, .retriable),
        (RD_KAFKA_RESP_ERR_NOT_COORDINATOR, .retriable),
        (RD_KAFKA_RESP_ERR__TRANSPORT, .retriable),
        (RD_KAFKA_RESP_ERR__STATE, .invalidState),
        (RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, .failed),
        (RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, .failed),
    ])
    func bareCodesAreClassified(code: rd_kafka_resp_err_t, kind: KafkaError.Kind) {
        let error = KafkaError(code: code)
        #expect(error.kind == kind)
        #expect(error.code == code.rawValue)
        #expect(!error.codeName.isEmpty)
    }

    @Test func fencingIsRecognised() {
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR_PRODUCER_FENCED).isFencing)
        #expect(!KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT).isFencing)
    }

    @Test func descriptionNamesKindAndCode() {
        let error = KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT, message: "commit took too long")
        #expect(error.description == "Kafka retriable _TIMED_OUT: commit took too long")
    }

    @Test func checkPassesNoErrorAndThrowsTheRest() throws {
        try KafkaError.check(RD_KAFKA_RESP_ERR_NO_ERROR)
        #expect(throws: KafkaError.self) { try KafkaError.check(RD_KAFKA_RESP_ERR__STATE) }
    }
}

@Suite struct KafkaHeaderTests {
    @Test func repeatedKeysResolveToTheLast() {
        let headers = [
            KafkaHeader(key: "ce_type", string: "first"),
            KafkaHeader(key: "other", value: nil),
            KafkaHeader(key: "ce_type", string: "second"),
        ]
        #expect(headers.string("ce_type") == "second")
        #expect(headers.last("other")?.value == nil)
        #expect(headers.string("missing") == nil)
    }

    @Test func topicPartitionListRoundTrips() {
        let offsets = [
            KafkaTopicPartitionOffset(topic: "a", partition: 0, offset: KafkaOffset(5)),
            KafkaTopicPartitionOffset(topic: "b", partition: 3, offset: .beginning),
        ]
        #expect(RDKafkaTopicPartitionList(offsets).offsets == offsets)
    }

    @Test func offsetsDescribeThemselves() {
        #expect(KafkaOffset.beginning.description == "beginning")
        #expect(KafkaOffset(42).description == "42")
        #expect(KafkaOffset.end.isLogical)
    }
}
