/// A change of a consumer's assignment, reported to the listener given to `KafkaConsumer`.
///
/// The listener runs synchronously inside `poll`, on the consumer's own thread: for `revoked` it runs
/// before the partitions are given up, for `assigned` right after they are taken. It must not await
/// the consumer (that would wait for the poll it runs in).
public enum KafkaRebalanceEvent: Sendable, Hashable {
    /// `cooperative`: only these partitions were added (incremental); otherwise this is the whole assignment.
    case assigned([KafkaTopicPartition], cooperative: Bool)
    /// `cooperative`: only these partitions go; otherwise the whole assignment is revoked.
    case revoked([KafkaTopicPartition], cooperative: Bool)

    public var partitions: [KafkaTopicPartition] {
        switch self {
        case .assigned(let partitions, _), .revoked(let partitions, _): partitions
        }
    }
}
