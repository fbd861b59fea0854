import CRdKafka

/// A consumer's group membership (generation, member id), which a transaction needs to commit offsets
/// so that the broker can reject offsets from a member that has since been replaced.
public final class KafkaConsumerGroupMetadata: @unchecked Sendable {
    // @unchecked: an immutable C object, only read by librdkafka after creation.
    private let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(pointer) }
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}
