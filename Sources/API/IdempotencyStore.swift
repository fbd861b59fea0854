import Foundation
import Postgres

/// `Idempotency-Key`s in PostgreSQL, shared by every API instance and kept across restarts.
///
/// A key is claimed before its command is written and completed with the response after the broker
/// acknowledged it. A replay gets the stored response and writes nothing; the same key with another
/// request is a conflict. A claim whose instance died before completing it (no response after
/// `abandonAfter`) may be taken over: the command then goes out again with the same id (it derives
/// from the caller, the key and the request), which the role applies once.
public struct IdempotencyStore: Sendable {
    public enum Claim: Sendable, Equatable {
        /// The caller owns the key now: write the command, then `complete` or `release`.
        case claimed
        /// The key was used for this very request: answer with its response.
        case replay(String)
        /// The key was used for a different request.
        case mismatch
        /// Another request with this key is being written right now.
        case inFlight
    }

    let database: ConnectionRing<PostgresConnection>
    let retention: Duration
    let abandonAfter: Duration

    init(database: ConnectionRing<PostgresConnection>, retention: Duration, abandonAfter: Duration = .seconds(30)) {
        self.database = database
        self.retention = retention
        self.abandonAfter = abandonAfter
    }

    public static let schema = """
        CREATE TABLE IF NOT EXISTS api_idempotency_keys (
            principal text NOT NULL,
            idempotency_key text NOT NULL,
            request_hash text NOT NULL,
            command_id text NOT NULL,
            response text,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (principal, idempotency_key)
        )
        """

    static func migrate(_ database: PostgresConnection) async throws {
        try await database.query(schema)
    }

    public func claim(principal: String, key: String, requestHash: String, commandID: String) async throws -> Claim {
        let retention = String(retention.components.seconds), abandon = String(abandonAfter.components.seconds)
        return try await database.next().transaction { session in
            let inserted = try session.query(
                """
                INSERT INTO api_idempotency_keys (principal, idempotency_key, request_hash, command_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (principal, idempotency_key) DO NOTHING
                """,
                [principal, key, requestHash, commandID]
            )
            if inserted.affected == 1 { return .claimed }
            let rows = try session.query(
                """
                SELECT request_hash, response, created_at::text AS created_at,
                       created_at < now() - ($3 || ' seconds')::interval AS expired,
                       created_at < now() - ($4 || ' seconds')::interval AS abandoned
                FROM api_idempotency_keys WHERE principal = $1 AND idempotency_key = $2 FOR UPDATE
                """,
                [principal, key, retention, abandon]
            ).records
            guard let row = rows.first, let hash = row["request_hash"] ?? nil, let created = row["created_at"] ?? nil else {
                throw PostgresError(message: "idempotency key vanished while it was claimed")
            }
            let response = row["response"] ?? nil
            if (row["expired"] ?? nil) == "t" || (response == nil && (row["abandoned"] ?? nil) == "t" && hash == requestHash) {
                try session.query(
                    """
                    UPDATE api_idempotency_keys SET request_hash = $3, command_id = $4, response = NULL, created_at = now()
                    WHERE principal = $1 AND idempotency_key = $2 AND created_at = $5::timestamptz
                    """,
                    [principal, key, requestHash, commandID, created]
                )
                return .claimed
            }
            if hash != requestHash { return .mismatch }
            if let response { return .replay(response) }
            return .inFlight
        }
    }

    public func complete(principal: String, key: String, response: String) async throws {
        try await database.next().query(
            "UPDATE api_idempotency_keys SET response = $3 WHERE principal = $1 AND idempotency_key = $2", [principal, key, response]
        )
    }

    /// Gives a key back after its command could not be written, so that a retry writes it.
    public func release(principal: String, key: String) async throws {
        try await database.next().query(
            "DELETE FROM api_idempotency_keys WHERE principal = $1 AND idempotency_key = $2 AND response IS NULL", [principal, key]
        )
    }

    /// Forgets keys older than the retention. - Returns: how many.
    @discardableResult
    public func purge() async throws -> Int {
        try await database.next().query(
            "DELETE FROM api_idempotency_keys WHERE created_at < now() - ($1 || ' seconds')::interval", [String(retention.components.seconds)]
        ).affected
    }
}
