import Kafka

/// One partition's transaction in the making: the messages its records produced (taken by the
/// worker as it goes, to be produced at once), where each came from, and what the records changed
/// and remembered — written to the changelog once, when the round closes (`BatchProcessor.close`).
public struct PartitionRound: Sendable {
    public let partition: Int32
    /// Messages produced since the worker last took them (`takeMessages()`), in order.
    public private(set) var messages: [KafkaProducerMessage] = []
    /// Per message, the input it was produced for (`nil`: a changelog record): a delivery that fails
    /// for good dead-letters that input when the partition is processed again.
    public private(set) var origins: [RecordPosition?] = []
    /// Whether the round wrote a changelog record (every round of a partition writes one, naming its
    /// writer, so that a next owner can fence it).
    public private(set) var wroteChangelog = false
    /// The last offset handled per input partition (the transaction commits the next one).
    public internal(set) var lastOffsets: [KafkaTopicPartition: Int64] = [:]
    public internal(set) var processed = 0
    public internal(set) var emitted = 0
    public internal(set) var duplicates = 0
    public internal(set) var deadLettered = 0
    public internal(set) var stateChanges = 0
    /// Keys whose new state was refused for its size (the records that caused it were dead-lettered).
    public internal(set) var oversizedStates: [String] = []

    /// Each changed key, with the topic of the record that last changed it: the round's last record
    /// of that topic is the source its changelog record names.
    var changed: [String: String] = [:]
    var changeOrder: [String] = []
    /// Each changed key's final value, encoded when its size was checked (`nil`: a tombstone).
    var encoded: [String: [UInt8]?] = [:]
    /// The ids the round applied or dead-lettered, for its dedupe buckets.
    var rememberedIDs: [String] = []
    var rememberedTimes: [Int64] = []
    var rememberedSet: Set<String> = []
    /// The buckets the round wrote: the capacity never pushes them out.
    var buckets: Set<String> = []
    /// The newest record handled (by record time): the dedupe window is measured from it.
    var newest: (time: Int64, topic: String)?
    /// The topic of the last record handled: buckets and rewritten keys name its last offset as their source.
    var lastTopic: String?
    public init(partition: Int32) {
        self.partition = partition
    }

    /// Whether the round handled no record and holds nothing to write.
    public var isEmpty: Bool { processed == 0 && changeOrder.isEmpty && messages.isEmpty }

    /// Hands over the messages produced since the last call, with the input each came from.
    public mutating func takeMessages() -> (messages: [KafkaProducerMessage], origins: [RecordPosition?]) {
        defer {
            messages = []
            origins = []
        }
        return (messages, origins)
    }

    mutating func append(_ message: KafkaProducerMessage, origin: RecordPosition?) {
        messages.append(message)
        origins.append(origin)
    }

    mutating func appendChangelog(_ message: KafkaProducerMessage) {
        append(message, origin: nil)
        wroteChangelog = true
    }

    mutating func noteChange(_ key: String, topic: String) {
        if changed.updateValue(topic, forKey: key) == nil { changeOrder.append(key) }
    }

    func hasRemembered(_ id: String) -> Bool { rememberedSet.contains(DedupeBucket.remembered(id)) }

    mutating func remember(_ id: String, at time: Int64) {
        let id = DedupeBucket.remembered(id)
        guard rememberedSet.insert(id).inserted else { return }
        rememberedIDs.append(id)
        rememberedTimes.append(time)
    }

    mutating func noteHandled(_ record: InboundRecord) {
        processed += 1
        lastOffsets[KafkaTopicPartition(topic: record.topic, partition: record.partition)] = record.offset
        if newest.map({ $0.time <= record.timestampMilliseconds }) ?? true {
            newest = (record.timestampMilliseconds, record.topic)
        }
        lastTopic = record.topic
    }

    /// The source a changelog record of a key changed by a record of `topic` names: the round's last
    /// record of that topic, whose offset the round commits.
    func source(topic: String) -> (topic: String, offset: Int64) {
        (topic, lastOffsets[KafkaTopicPartition(topic: topic, partition: partition)] ?? -1)
    }
}
