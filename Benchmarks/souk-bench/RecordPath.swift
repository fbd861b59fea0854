import Foundation
import Kafka
import Streams

/// The runtime's CPU per record without a broker: `BatchProcessor.handle` over records as a poll
/// returns them, rounds closed as the worker closes them. Printed as nanoseconds per record
/// (thread CPU time, so other processes do not count).
enum RecordPath {
    static func measure<Role: StreamRole>(_ role: Role, records count: Int, size: Int) async throws -> Double {
        let records = (0..<count).map { index in
            InboundRecord(
                topic: role.inputTopics[0], partition: 0, offset: Int64(index), key: "key-\(index % 10_000)", value: BenchItem.value(index: index, size: size),
                headers: cloudEventHeaders("in-\(index)"), timestamp: Date(timeIntervalSince1970: 1_796_600_000 + Double(index) / 1000)
            )
        }
        let processor = BatchProcessor(role: role)
        var sink = 0
        var best = Int.max
        // The best of five passes, each with a fresh store: the first warms caches and allocator.
        for _ in 0..<5 {
            var store = StateStore<Role.State>()
            let started = threadCPUNanoseconds()
            var round = PartitionRound(partition: 0)
            var version = ChangelogVersion.initial
            for chunk in stride(from: 0, to: count, by: 500) {
                try await processor.handle(records[chunk..<min(count, chunk + 500)], store: &store, round: &round)
                sink &+= round.takeMessages().messages.count
                if round.processed >= 10_000 {
                    try processor.close(&round, version: version, store: &store)
                    sink &+= round.takeMessages().messages.count
                    round = PartitionRound(partition: 0)
                    version = version.next
                }
            }
            best = min(best, threadCPUNanoseconds() - started)
        }
        precondition(sink >= count)
        return Double(best) / Double(count)
    }

    private static func threadCPUNanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }
}
