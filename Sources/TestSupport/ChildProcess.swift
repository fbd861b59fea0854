import Foundation

/// A process of one of the package's executables, started by a test, killable at will.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: Foundation's Process is used from the test's task only.
    private let process = Process()
    public let logFile: URL

    /// - Parameter executable: a product of this package, found beside the running test bundle.
    public convenience init(executable: String, arguments: [String], environment: [String: String] = [:], logFile: URL) throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = directory.appendingPathComponent(executable)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw DeadlineExceeded(description: "\(binary.path) is missing: build it with `swift build` before testing")
        }
        try self.init(program: binary, arguments: arguments, environment: environment, logFile: logFile)
    }

    /// - Parameter program: any executable, e.g. `/usr/sbin/nginx`.
    public init(program: URL, arguments: [String], environment: [String: String] = [:], logFile: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: program.path) else {
            throw DeadlineExceeded(description: "\(program.path) is missing: run scripts/bootstrap (it installs what the tests need)")
        }
        process.executableURL = program
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        self.logFile = logFile
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }

    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    public func terminate() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
    }

    /// Asks the process to stop (SIGTERM) and kills it if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(20)) async {
        terminate()
        if (try? await waitForExit(timeout: grace)) == nil { kill() }
    }

    /// Runs `body`, then stops the process however `body` ended. When `body` fails, the process's
    /// last warnings and errors are printed: a CI log then shows why, not only that it waited.
    public func stopping<T>(after body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await stop()
            return result
        } catch {
            await stop()
            print(complaints())
            throw error
        }
    }

    /// The last `limit` lines of the log at level warning or above, under a heading naming the log.
    public func complaints(limit: Int = 40) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").filter { line in
            [" warning ", " error ", " critical ", "Fatal error"].contains { line.contains($0) }
        }
        return "--- last \(min(limit, lines.count)) of \(lines.count) warnings and errors in \(logFile.path):\n"
            + lines.suffix(limit).joined(separator: "\n")
    }

    /// Waits for the process to exit, failing after `timeout`. - Returns: its exit status.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually("process \(pid) exits", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    deinit {
        kill()
    }
}
