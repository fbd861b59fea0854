import Foundation
import Streams

extension SoukEnvironment {
    /// A worker's configuration as every worker process reads it from the environment: the broker,
    /// its timings and the switches for the local broker's gaps (`KAFKA_LEAVE_GROUP_ON_CLOSE`,
    /// `KAFKA_CONFIRM_COMMITS`, `KAFKA_END_PREDECESSOR_EPOCHS`, `KAFKA_VERIFY_OFFSET_GAPS`). One place,
    /// so that a new switch reaches `souk run` and `souk-counter` alike.
    public func streamConfiguration(instance: Int, stateDirectory: URL?) throws -> StreamConfiguration {
        StreamConfiguration(
            bootstrapServers: try kafkaBootstrapServers,
            timings: try kafkaConsumerTimings,
            instance: instance,
            stateDirectory: stateDirectory,
            leaveGroupOnClose: kafkaLeaveGroupOnClose,
            confirmCommits: kafkaConfirmCommits,
            endPredecessorEpochs: kafkaEndPredecessorEpochs,
            verifyOffsetGaps: kafkaVerifyOffsetGaps
        )
    }
}
