import Foundation
import TestSupport

/// The real nginx with `docker/nginx.conf.template`, rendered for a test.
final class Gateway: Sendable {
    let port: Int
    let directory: URL
    let process: ChildProcess

    static let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docker/nginx.conf.template")

    init(upstreams: [Int], rate: String = "200r/s", burst: Int = 400, addressRate: String = "800r/s") async throws {
        port = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("nginx"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = try String(contentsOf: Self.template, encoding: .utf8)
        let values = [
            "SOUK_NGINX_DIR": directory.path, "SOUK_LISTEN": "127.0.0.1:\(port)",
            "SOUK_API_UPSTREAMS": upstreams.map { "server 127.0.0.1:\($0) max_fails=1 fail_timeout=2s;" }.joined(separator: "\n        "),
            "SOUK_RATE_LIMIT": rate, "SOUK_RATE_BURST": String(burst), "SOUK_ADDRESS_RATE_LIMIT": addressRate,
        ]
        for (name, value) in values { config = config.replacingOccurrences(of: "${\(name)}", with: value) }
        precondition(!config.contains("${SOUK_"), "a template variable is left")
        let file = directory.appendingPathComponent("nginx.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        process = try ChildProcess(
            program: URL(fileURLWithPath: "/usr/sbin/nginx"),             // One process, so that stopping it (or the test dying) leaves no worker behind.
            arguments: ["-p", directory.path, "-c", file.path, "-g", "daemon off; master_process off;"],
            logFile: directory.appendingPathComponent("nginx.log")
        )
        try await eventually("nginx answers on \(port)", timeout: .seconds(20)) {
            (try? await httpRequest("GET", "\(self.url)/health/gateway"))?.status == 200
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    deinit { process.terminate() }
}
