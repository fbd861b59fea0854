import Foundation
import Testing
import TestSupport

/// schemathesis (PyPI, installed by scripts/bootstrap) fuzzes every operation of `Docs/openapi.json`
/// against a running API, valid and invalid inputs alike, and fails on any 5xx answer.
@Suite(.serialized) struct APIFuzzTests {
    @Test func aFuzzPassFromTheOpenAPIDocumentFindsNoServerError() async throws {
        let stack = try TestStack.load()
        let root = Gateway.template.deletingLastPathComponent().deletingLastPathComponent()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("fuzz"))
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let home = stack.environment["SOUK_HOME"] ?? "/opt/souk"
        let schemathesis = URL(fileURLWithPath: "\(home)/venv/bin/schemathesis")

        // The topics exist, so that accepted commands are really written.
        let apply = try ChildProcess(
            executable: "souk", arguments: ["topics", "apply", "--dir", root.appendingPathComponent("topics").path],
            logFile: scratch.appendingPathComponent("topics.log")
        )
        #expect(try await apply.waitForExit(timeout: .seconds(120)) == 0)
        let port = try freePort()
        let api = try ChildProcess(
            executable: "souk", arguments: ["run", "--role", "api", "--http-port", "0"],
            environment: ["SOUK_API_PORT": String(port), "SOUK_API_HOST": "127.0.0.1"], logFile: scratch.appendingPathComponent("api.log")
        )
        try await api.stopping { try await fuzz(port: port, stack: stack, root: root, scratch: scratch, schemathesis: schemathesis) }
    }

    func fuzz(port: Int, stack: TestStack, root: URL, scratch: URL, schemathesis: URL) async throws {
        try await eventually("the API is ready (log: \(scratch.path)/api.log)", timeout: .seconds(60), every: .milliseconds(200)) {
            (try? await httpRequest("GET", "http://127.0.0.1:\(port)/health/ready"))?.status == 200
        }
        let keys = try stack.environment.require("SOUK_API_KEYS")
        let secret = String(keys.split(separator: ",")[0].split(separator: "=", maxSplits: 1)[1])
        let report = scratch.appendingPathComponent("schemathesis.log")
        let fuzz = try ChildProcess(
            program: schemathesis,
            arguments: [
                "run", root.appendingPathComponent("Docs/openapi.json").path, "--url", "http://127.0.0.1:\(port)", "--checks", "not_a_server_error",
                "--max-examples", "15", "--seed", "7", "--header", "X-API-Key: \(secret)",
            ],
            environment: ["NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"], logFile: report
        )
        let status = try await fuzz.waitForExit(timeout: .seconds(480))
        let output = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
        let summary = output.components(separatedBy: "\n").filter { $0.contains("generated") || $0.contains("Tested:") }.joined(separator: "; ")
        #expect(status == 0, "schemathesis found failures (\(report.path)): \(output.suffix(3000))")
        #expect(output.contains("Tested: 49"), "not every operation was fuzzed: \(summary)")
        #expect(!summary.isEmpty && !summary.contains("failed"), "\(summary)")
    }
}
