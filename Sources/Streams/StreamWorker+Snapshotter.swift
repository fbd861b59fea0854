import Kafka

extension StreamWorker {
    /// Takes local snapshots of committed partition state, at most once per interval per partition.
    /// A snapshot is captured as a round closes (the store then holds exactly what the round's
    /// transaction commits) and written once that commit has returned.
    final class Snapshotter: @unchecked Sendable {
        // @unchecked: used from the worker loop only; writes run as jobs with values of their own.
        let snapshots: StateSnapshots
        private var lastTaken: [Int32: ContinuousClock.Instant] = [:]
        private let admin: KafkaAdminClient
        private let interval: Duration

        init(snapshots: StateSnapshots, admin: KafkaAdminClient, interval: Duration) {
            self.snapshots = snapshots
            self.admin = admin
            self.interval = interval
        }

        func forget(_ partition: Int32) { lastTaken[partition] = nil }

        /// Whether a snapshot of `partition` is due; the first commit after (re)assignment only starts the clock.
        func isDue(_ partition: Int32) -> Bool {
            let now = ContinuousClock.now
            guard let last = lastTaken[partition] else {
                lastTaken[partition] = now
                return false
            }
            return now - last >= interval
        }

        /// The partition's state as it stands (the dictionaries are shared until the store changes them).
        func capture(_ store: StateStore<Role.State>, partition: Int32, generation: Int64) -> StateSnapshots.Snapshot<Role.State> {
            lastTaken[partition] = .now
            return StateSnapshots.Snapshot(
                changelogOffset: 0, entries: store.entries(partition: partition), versions: store.versions(partition: partition), generation: generation
            )
        }

        /// Writes a captured snapshot whose commit has returned, marked with the changelog's end now:
        /// before the next round's changelog records, after the committed one's.
        func save(_ snapshot: StateSnapshots.Snapshot<Role.State>, partition: Int32, worker: StreamWorker, jobs: BackgroundJobs) async throws {
            let changelog = KafkaTopicPartition(topic: worker.role.changelogTopic, partition: partition)
            var snapshot = snapshot
            snapshot.changelogOffset = try await admin.watermarks(changelog).high
            let snapshots = self.snapshots
            let written = snapshot
            jobs.start { try? await onBlockingQueue { try snapshots.save(written, changelog.topic, partition: partition) } }
        }

        /// Snapshots the given partitions (with the generation their owner writes with) now: only with
        /// no transaction open (on shutdown), when the state is committed.
        func snapshot(_ store: StateStore<Role.State>, generations: [Int32: Int64], worker: StreamWorker) async throws {
            for (partition, generation) in generations.sorted(by: { $0.key < $1.key }) {
                var snapshot = capture(store, partition: partition, generation: generation)
                let changelog = KafkaTopicPartition(topic: worker.role.changelogTopic, partition: partition)
                snapshot.changelogOffset = try await admin.watermarks(changelog).high
                let snapshots = self.snapshots, written = snapshot
                try await onBlockingQueue { try snapshots.save(written, changelog.topic, partition: partition) }
            }
        }
    }
}
