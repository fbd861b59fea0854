import CRdKafka

/// A consumer's group membership (generation, member id), which a transaction needs to commit offsets
/// so that the broker can reject offsets from a member that has since been replaced.
public final class KafkaConsumerGroupMetadata: @unchecked Sendable {
    // @unchecked: an immutable C object, only read by librdkafka after creation.
    private let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Metadata naming only the group, without generation or member id: offsets committed with it are
    /// not fenced by group generation (the transactional id still fences producers). For brokers that
    /// mishandle the member-level check.
    public init(groupID: String) {
        pointer = rd_kafka_consumer_group_metadata_new(groupID)
    }

    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(pointer) }
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}
