import Foundation
import Testing

@testable import Streams

@Suite struct StateSnapshotsTests {
    @Test func savesAndLoadsAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapshots-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let snapshots = StateSnapshots(directory: directory)
        #expect(snapshots.load("c", partition: 0, as: Int.self) == nil)
        let first = StateSnapshots.Snapshot(changelogOffset: 10, entries: ["a": StoredState(state: 3, applied: ["x"])])
        try snapshots.save(first, "c", partition: 0)
        try snapshots.save(StateSnapshots.Snapshot(changelogOffset: 12, entries: ["a": StoredState(state: 4)]), "c", partition: 0)
        let loaded = try #require(snapshots.load("c", partition: 0, as: Int.self))
        #expect(loaded.changelogOffset == 12)
        #expect(loaded.entries["a"]?.state == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("c").path) == ["0.json"])
        snapshots.discard("c", partition: 0)
        #expect(snapshots.load("c", partition: 0, as: Int.self) == nil)
    }
}
