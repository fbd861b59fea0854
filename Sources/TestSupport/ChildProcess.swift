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

    /// Runs `body`, then stops the process however `body` ended.
    public func stopping<T>(after body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
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
