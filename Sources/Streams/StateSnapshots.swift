import Foundation
import JSONCodec
import Kafka

/// Local snapshots of partition state, so that a restart restores from the snapshot's changelog offset
/// instead of from the beginning of a changelog that nothing compacts (the local broker never does).
///
/// A snapshot is taken only right after a commit, so it holds committed state. Restoring reads the
/// changelog from the snapshot's offset to the end: any offset at or before the true position is safe,
/// because per key the highest version wins.
public struct StateSnapshots: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    struct Snapshot<State: Codable & Sendable & Equatable>: Codable {
        /// Changelog records before this offset are reflected in `entries`.
        var changelogOffset: Int64
        var entries: [String: StoredState<State>]
        var versions: [String: ChangelogVersion]?
        var generation: Int64?
    }

    private func file(_ changelog: String, _ partition: Int32) -> URL {
        directory.appendingPathComponent(changelog).appendingPathComponent("\(partition).json")
    }

    func load<State>(_ changelog: String, partition: Int32, as: State.Type) -> Snapshot<State>? {
        guard let data = try? Data(contentsOf: file(changelog, partition)) else { return nil }
        return try? SoukJSON.decode(Snapshot<State>.self, from: data)
    }

    func save<State>(_ snapshot: Snapshot<State>, _ changelog: String, partition: Int32) throws {
        let target = file(changelog, partition)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Write then rename: a crash never leaves a half-written snapshot behind.
        let temporary = target.appendingPathExtension("tmp-\(UInt32.random(in: 0..<UInt32.max))")
        try Data(SoukJSON.encode(snapshot)).write(to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
        }
    }

    func discard(_ changelog: String, partition: Int32) {
        try? FileManager.default.removeItem(at: file(changelog, partition))
    }
}
