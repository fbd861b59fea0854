import App
import ArgumentParser
import Foundation
import Postgres
import Projections

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild a read model from the event archive into new tables and switch readers to them.",
        discussion: """
            Replays the archive into tables of a new schema with a progress bar, then, with the live
            tables locked, replays what arrived meanwhile, checks the row counts against the live tables
            and the archive, and swaps the tables in one transaction. The old tables stay in schema
            souk_old_<projection>_<stamp> until dropped (--drop-old SCHEMA, or --list-old to see them).
            Projections: \(ProjectionRebuild.projections.map(\.name).joined(separator: ", ")).
            The archive itself comes from Kafka: to rebuild it from offset 0, stop the projector and
            `souk replay --group souk-projector-readmodels --to earliest` (events are archived once per id).
            Examples:
              souk rebuild orders
              souk rebuild --list-old
              souk rebuild --drop-old souk_old_orders_1795000000000
            Exit status: 0, 2 for an unknown projection, 1 when verification fails (nothing is switched).
            """
    )

    @Argument(help: "The projection to rebuild.") var projection: String?
    @Option(help: "Drop a schema of old tables kept by an earlier rebuild.") var dropOld: String?
    @Flag(help: "List the schemas of old tables.") var listOld = false

    func validate() throws {
        if projection == nil && dropOld == nil && !listOld { throw ValidationError("name a projection, or use --list-old / --drop-old") }
        if let projection, !ProjectionRebuild.projections.contains(where: { $0.name == projection }) {
            throw ValidationError("unknown projection \(projection); known: \(ProjectionRebuild.projections.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let (environment, _) = try OperatorContext.load()
        let rebuild = ProjectionRebuild(database: try await PostgresConnection.connect(try environment.require("POSTGRES_URL")))
        if listOld {
            for schema in try await rebuild.oldSchemas() { OperatorContext.write(schema) }
            return
        }
        if let dropOld {
            try await rebuild.drop(dropOld)
            OperatorContext.write("dropped \(dropOld)")
            return
        }
        let bar = ProgressBar(enabled: OperatorContext.isTerminal || isatty(STDERR_FILENO) == 1)
        do {
            let result = try await rebuild.run(projection!) { bar.show($0) }
            bar.finish()
            for (table, counts) in result.rows.sorted(by: { $0.key < $1.key }) {
                OperatorContext.write("\(table): \(counts[0]) rows rebuilt = \(counts[1]) live")
            }
            OperatorContext.write("\(result.events) events replayed; the archive names \(result.sourceCount); readers switched; old tables kept in \(result.oldSchema)")
        } catch let failure as ProjectionRebuild.Failure {
            bar.finish()
            FileHandle.standardError.write(Data("souk: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `[#####-----] 1200/5000 events  2400 ev/s  ETA 2s` on stderr, redrawn in place.
struct ProgressBar: Sendable {
    let enabled: Bool

    func show(_ progress: ProjectionRebuild.Progress) {
        guard enabled else { return }
        let seconds = max(0.001, Double(progress.elapsed.components.seconds) + Double(progress.elapsed.components.attoseconds) / 1e18)
        let rate = Double(progress.applied) / seconds
        let fraction = progress.total > 0 ? Double(progress.applied) / Double(progress.total) : 1
        let filled = Int(fraction * 30)
        let eta = rate > 0 ? Double(progress.total - progress.applied) / rate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
        FileHandle.standardError.write(Data(String(format: "\r[%@] %d/%d events  %.0f ev/s  ETA %.0fs ", bar, progress.applied, progress.total, rate, eta).utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
