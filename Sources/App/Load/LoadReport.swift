import Foundation

/// What `souk load` measured and checked.
public struct LoadReport: Codable, Sendable {
    public var run: String
    public var orders: Int
    public var ended: Int
    public var seconds: Double
    /// Orders that reached a terminal state, per second, from the first command to the last end.
    public var ordersPerSecond: Double
    /// From the CreateOrder command to its terminal event, in milliseconds.
    public var p50: Double
    public var p95: Double
    public var p99: Double
    /// fulfilled, cancelled, failed, refused (before it started) → count.
    public var terminal: [String: Int]
    /// Broken invariants; empty when every check held.
    public var violations: [String]
    public var checks: [String]
    /// Orders placed through the HTTP API rather than straight onto the command topic.
    public var viaAPI: Int = 0

    public var passed: Bool { violations.isEmpty && ended == orders }

    public var table: String {
        var lines = [
            "run \(run)",
            "| orders | ended | seconds | orders/s | p50 ms | p95 ms | p99 ms | fulfilled | failed | cancelled | refused |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            String(
                format: "| %d | %d | %.1f | %.1f | %.0f | %.0f | %.0f | %d | %d | %d | %d |", orders, ended, seconds, ordersPerSecond, p50, p95, p99,
                terminal["fulfilled", default: 0], terminal["failed", default: 0], terminal["cancelled", default: 0], terminal["refused", default: 0]
            ),
        ]
        lines += checks.map { "check: \($0)" }
        lines += violations.map { "VIOLATION: \($0)" }
        if ended < orders { lines.append("INCOMPLETE: \(orders - ended) orders did not end in time") }
        return lines.joined(separator: "\n")
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }
}
