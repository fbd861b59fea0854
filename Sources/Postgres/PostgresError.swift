/// The one error type of the Postgres module: the server's SQLSTATE and message, or a client failure.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The five-character SQLSTATE (e.g. `23505` unique violation); empty for client-side failures.
    public var sqlState: String
    public var message: String

    public init(sqlState: String = "", message: String) {
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String { sqlState.isEmpty ? "PostgreSQL: \(message)" : "PostgreSQL \(sqlState): \(message)" }
}
