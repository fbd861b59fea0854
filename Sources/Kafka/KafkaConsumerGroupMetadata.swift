import CRdKafka

/// A consumer's group membership (generation, member id), which a transaction needs to commit offsets
/// so that the broker can reject offsets from a member that has since been replaced.
public final class KafkaConsumerGroupMetadata: @unchecked Sendable {
    // @unchecked: an immutable C object, only read by librdkafka after creation.
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}
