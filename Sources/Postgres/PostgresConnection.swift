import CLibPQ
import Dispatch
import Foundation

/// One libpq connection with a thread of its own: every call runs on the connection's serial queue,
/// never on Swift's cooperative pool.
public final class PostgresConnection: @unchecked Sendable {
    // @unchecked: the PGconn is only touched on `queue`.
    private let connection: OpaquePointer
    private let queue: DispatchQueue

    private init(connection: OpaquePointer, label: String) {
        self.connection = connection
        self.queue = DispatchQueue(label: label)
    }

    deinit {
        PQfinish(connection)
    }

    /// Connects with a `postgres://user@host:port/database` URL (any libpq connection string works).
    public static func connect(_ url: String) async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "souk.postgres.connect").async {
                guard let connection = PQconnectdb(url) else {
                    return continuation.resume(throwing: PostgresError(message: "out of memory"))
                }
                guard PQstatus(connection) == CONNECTION_OK else {
                    let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
                    PQfinish(connection)
                    return continuation.resume(throwing: PostgresError(message: "cannot connect: \(message)"))
                }
                // Idempotent migrations ("… already exists, skipping") would otherwise print notices on stderr.
                PQclear(PQexec(connection, "SET client_min_messages TO warning"))
                continuation.resume(returning: PostgresConnection(connection: connection, label: "souk.postgres"))
            }
        }
    }

    /// Runs one statement with `$1…` parameters (text; `nil` is NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> PostgresRows {
        try await onQueue { session in try session.query(sql, parameters) }
    }

    /// Runs `body` inside BEGIN … COMMIT on the connection's thread; any error rolls back.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await onQueue { session in
            try session.query("BEGIN")
            do {
                let result = try body(session)
                try session.query("COMMIT")
                return result
            } catch {
                _ = try? session.query("ROLLBACK")
                throw error
            }
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result { try body(PostgresSession(connection: connection)) })
            }
        }
    }
}

/// Statements on a connection's own thread, inside `PostgresConnection.transaction`.
public struct PostgresSession {
    fileprivate let connection: OpaquePointer

    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> PostgresRows {
        var cStrings: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let result = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, buffer.count)) { values in
                PQexecParams(connection, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
            }
        }
        guard let result else { throw PostgresError(message: String(cString: PQerrorMessage(connection))) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresError(sqlState: state, message: message)
        }
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let rows = (0..<PQntuples(result)).map { row in
            (0..<columnCount).map { column -> String? in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
        return PostgresRows(columns: columns, rows: rows, affected: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }
}
