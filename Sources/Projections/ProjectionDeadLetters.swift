import Postgres

/// Events a projector could not apply, kept in PostgreSQL beside the read models and written in the
/// same transaction that moves the projector past them: the projector's dead letters. Its sink is the
/// database, so that is where they belong (a dead-letter topic could not be written atomically with it).
public enum ProjectionDeadLetters {
    public static let schema = """
        CREATE TABLE IF NOT EXISTS projection_dead_letters (
            projector text NOT NULL,
            event_id text NOT NULL,
            event_type text NOT NULL,
            topic text NOT NULL,
            kafka_partition integer NOT NULL,
            kafka_offset bigint NOT NULL,
            reason text NOT NULL,
            payload text NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (projector, event_id)
        )
        """

    /// PostgreSQL text cannot hold NUL.
    private static func text(_ value: String) -> String { value.replacingOccurrences(of: "\u{0}", with: "") }

    static func record(_ event: ProjectedEvent, projector: String, reason: String, in session: PostgresSession) throws {
        try session.query(
            """
            INSERT INTO projection_dead_letters (projector, event_id, event_type, topic, kafka_partition, kafka_offset, reason, payload)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
            """,
            [
                projector, text(event.id), text(event.type), event.topic, String(event.partition), String(event.offset), text(String(reason.prefix(2000))),
                text(String(decoding: event.payload, as: UTF8.self)),
            ]
        )
    }
}
