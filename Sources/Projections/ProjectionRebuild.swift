import Contracts
import Foundation
import Postgres

/// Rebuilds a read model from the event archive into new tables, verifies them, and switches readers
/// to them in one transaction; the old tables are kept in a schema of their own until dropped.
///
/// The new tables are built in schema `souk_rebuild_<stamp>` by replaying the archive with that schema
/// first on the search path (the projection's SQL names tables without a schema). The switch locks the
/// live tables (the projector waits), replays what was archived meanwhile, compares row counts with
/// the live tables and with the source, then moves the live tables to `souk_old_<stamp>` and the new
/// ones to `public`: readers see the old tables or the new ones, never a mix.
public struct ProjectionRebuild: Sendable {
    public struct Projection: Sendable {
        public var name: String
        public var tables: [String]
        public var eventTypes: [String]
        /// The source's count of what the main table holds: distinct aggregate ids of its creating event.
        public var sourceCount: String
    }

    public static let projections: [Projection] = [
        Projection(
            name: "catalog", tables: ["products"],
            eventTypes: [ProductCreated.typeName, ProductUpdated.typeName, PriceChanged.typeName, ProductDeleted.typeName],
            sourceCount: "count(DISTINCT payload->>'productId') FILTER (WHERE event_type = '\(ProductCreated.typeName)')"
        ),
        Projection(
            name: "inventory", tables: ["inventory_levels"], eventTypes: [InventoryUpdated.typeName],
            sourceCount: "count(DISTINCT payload->>'sku')"
        ),
        Projection(
            name: "customers", tables: ["customers", "customer_addresses"],
            eventTypes: [CustomerRegistered.typeName, ProfileUpdated.typeName, AddressUpdated.typeName, BillingInfoUpdated.typeName],
            sourceCount: "count(DISTINCT payload->>'customerId') FILTER (WHERE event_type = '\(CustomerRegistered.typeName)')"
        ),
        Projection(
            name: "carts", tables: ["carts"],
            eventTypes: EventProjection.cartEvents,
            sourceCount: "count(DISTINCT payload->>'cartId') FILTER (WHERE event_type = '\(CartCreated.typeName)')"
        ),
        Projection(
            name: "orders", tables: ["orders"],
            eventTypes: [OrderCreated.typeName, OrderStatusUpdated.typeName, OrderCancelled.typeName, OrderFulfilled.typeName],
            sourceCount: "count(DISTINCT payload->>'orderId') FILTER (WHERE event_type = '\(OrderCreated.typeName)')"
        ),
        Projection(
            name: "payments", tables: ["payments", "refunds"],
            eventTypes: [PaymentProcessed.typeName, PaymentFailed.typeName, RefundInitiated.typeName, RefundCompleted.typeName],
            sourceCount: "count(DISTINCT payload->>'paymentId') FILTER (WHERE event_type IN ('\(PaymentProcessed.typeName)', '\(PaymentFailed.typeName)'))"
        ),
        Projection(
            name: "shipments", tables: ["shipments", "shipment_tracking"],
            eventTypes: [ShipmentCreated.typeName, CarrierAssigned.typeName, ShipmentStatusUpdated.typeName, DeliveryCompleted.typeName],
            sourceCount: "count(DISTINCT payload->>'shipmentId') FILTER (WHERE event_type = '\(ShipmentCreated.typeName)')"
        ),
    ]

    public struct Progress: Sendable {
        public var applied: Int
        public var total: Int
        public var elapsed: Duration
    }

    public struct Result: Sendable, Equatable {
        public var projection: String
        public var events: Int
        /// Rows per table: (rebuilt, live before the switch).
        public var rows: [String: [Int]]
        public var sourceCount: Int
        /// Where the old tables are kept.
        public var oldSchema: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknown(String)
        case mismatch(String)
        public var description: String {
            switch self {
            case .unknown(let name): "unknown projection \(name); known: \(ProjectionRebuild.projections.map(\.name).joined(separator: ", "))"
            case .mismatch(let detail): "verification failed, nothing switched: \(detail)"
            }
        }
    }

    let database: PostgresConnection
    public init(database: PostgresConnection) { self.database = database }

    public func run(_ name: String, batchSize: Int = 1_000, progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Result {
        guard let projection = Self.projections.first(where: { $0.name == name }) else { throw Failure.unknown(name) }
        try await ReadModelSchema.migrate(database)
        let stamp = String(Int(Date().timeIntervalSince1970 * 1000))
        let building = "souk_rebuild_\(stamp)", old = "souk_old_\(projection.name)_\(stamp)"
        let statements = Self.statements(for: projection.tables)
        try await database.transaction { session in
            try session.query("CREATE SCHEMA \(building)")
            try session.query("SET LOCAL search_path TO \(building)")
            for statement in statements { try session.query(statement) }
            try session.query("CREATE TABLE \(building).\(Self.appliedTable) (event_id text PRIMARY KEY)")
        }
        let types = projection.eventTypes.map { "'\($0)'" }.joined(separator: ", ")
        let total = Int(try await database.query("SELECT count(*) FROM public.event_archive WHERE event_type IN (\(types))")[0, "count"] ?? "0") ?? 0
        let started = ContinuousClock.now
        // An event archived in a transaction that began before this is committed before the replay
        // starts (a projector's transaction lasts a batch, far less): the replay sees it in order.
        let stragglersSince = (Date() - Self.stragglerWindow).rfc3339
        var position = ArchivePosition()
        var applied = 0
        while true {
            let (count, next) = try await database.transaction { [position] session in
                try session.query("SET LOCAL search_path TO \(building), public")
                return try Self.replay(types: types, after: position, since: stragglersSince, limit: batchSize, recordingIn: building, session)
            }
            applied += count
            position = next ?? position
            progress(Progress(applied: applied, total: max(total, applied), elapsed: .now - started))
            if count < batchSize { break }
        }
        // What the position missed: an event a projector archived on a partition the replay had
        // already passed sorts behind its position. First without locks, then under them: the rest
        // is every recent event not applied yet, wherever it sorts.
        while true {
            let (count, _) = try await database.transaction { session in
                try session.query("SET LOCAL search_path TO \(building), public")
                return try Self.replay(types: types, after: nil, since: stragglersSince, limit: batchSize, recordingIn: building, session)
            }
            applied += count
            if count < batchSize { break }
        }
        // The switch: nothing reaches the live tables while the rest is replayed, checked and swapped.
        let tables = projection.tables
        let sourceSQL = "SELECT \(projection.sourceCount) AS n FROM public.event_archive WHERE event_type IN (\(types))"
        return try await database.transaction { [applied] session in
            for table in tables { try session.query("LOCK TABLE public.\(table) IN ACCESS EXCLUSIVE MODE") }
            try session.query("SET LOCAL search_path TO \(building), public")
            var caughtUp = applied
            while true {
                let (count, _) = try Self.replay(types: types, after: nil, since: stragglersSince, limit: batchSize, recordingIn: building, session)
                caughtUp += count
                if count < batchSize { break }
            }
            try session.query("DROP TABLE \(building).\(Self.appliedTable)")
            var rows: [String: [Int]] = [:]
            for table in tables {
                let rebuilt = Int(try session.query("SELECT count(*) FROM \(building).\(table)")[0, "count"] ?? "") ?? -1
                let live = Int(try session.query("SELECT count(*) FROM public.\(table)")[0, "count"] ?? "") ?? -2
                rows[table] = [rebuilt, live]
                guard rebuilt == live else { throw Failure.mismatch("\(table): \(rebuilt) rows rebuilt, \(live) live") }
            }
            let source = Int(try session.query(sourceSQL)[0, "n"] ?? "") ?? -1
            let main = rows[tables[0]]![0]
            guard source == main else { throw Failure.mismatch("\(tables[0]): \(main) rows rebuilt, the archive names \(source)") }
            try session.query("CREATE SCHEMA \(old)")
            for table in tables {
                try session.query("ALTER TABLE public.\(table) SET SCHEMA \(old)")
                try session.query("ALTER TABLE \(building).\(table) SET SCHEMA public")
            }
            try session.query("DROP SCHEMA \(building)")
            return Result(projection: projection.name, events: caughtUp, rows: rows, sourceCount: source, oldSchema: old)
        }
    }

    /// Schemas that hold tables replaced by earlier rebuilds.
    public func oldSchemas() async throws -> [String] {
        try await database.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'souk_old_%' ORDER BY nspname").rows.compactMap { $0[0] }
    }

    public func drop(_ schema: String) async throws {
        guard schema.hasPrefix("souk_old_"), schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { throw Failure.unknown(schema) }
        _ = try await database.query("DROP SCHEMA \(schema) CASCADE")
    }

    struct ArchivePosition: Sendable {
        var topic = ""
        var partition = -1
        var offset: Int64 = -1
        /// Breaks ties: a topic deleted and created again starts its offsets anew, so a position
        /// alone does not name one archived event.
        var eventID = ""
    }

    /// Where the events a rebuild applied are listed, in its schema.
    static let appliedTable = "rebuild_applied"
    /// How far before a rebuild's start an event the replay's position missed may have been archived.
    static let stragglerWindow: TimeInterval = 300

    /// Applies up to `limit` archived events after `position` (`nil`: any archived since `since` and
    /// not applied yet), in each partition's order, and lists them in `schema`'s table of applied events.
    static func replay(
        types: String,
        after position: ArchivePosition?,
        since: String,
        limit: Int,
        recordingIn schema: String,
        _ session: PostgresSession
    ) throws -> (Int, ArchivePosition?) {
        let columns = """
            SELECT a.event_id, a.event_type, a.topic, a.kafka_partition, a.kafka_offset, a.event_key, a.correlation_id, a.causation_id,
                to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at, a.payload::text AS payload
            FROM public.event_archive a
            """
        let order = "ORDER BY a.topic, a.kafka_partition, a.kafka_offset, a.event_id LIMIT \(limit)"
        let rows =
            if let position {
                try session.query(
                    "\(columns) WHERE a.event_type IN (\(types)) AND (a.topic, a.kafka_partition, a.kafka_offset, a.event_id) > ($1, $2::integer, $3::bigint, $4) \(order)",
                    [position.topic, String(position.partition), String(position.offset), position.eventID]
                ).records
            } else {
                try session.query(
                    """
                    \(columns) WHERE a.archived_at >= $1::timestamptz AND a.event_type IN (\(types))
                    AND NOT EXISTS (SELECT 1 FROM \(schema).\(appliedTable) r WHERE r.event_id = a.event_id) \(order)
                    """,
                    [since]
                ).records
            }
        var last = position
        for row in rows {
            guard let id = row["event_id"] ?? nil, let type = row["event_type"] ?? nil, let topic = row["topic"] ?? nil,
                let partition = (row["kafka_partition"] ?? nil).flatMap(Int.init), let offset = (row["kafka_offset"] ?? nil).flatMap(Int64.init)
            else { continue }
            last = ArchivePosition(topic: topic, partition: partition, offset: offset, eventID: id)
            guard let payload = row["payload"] ?? nil else { continue }
            let event = ProjectedEvent(
                id: id, type: type, topic: topic, partition: Int32(partition), offset: offset, key: row["event_key"] ?? nil,
                correlationID: row["correlation_id"] ?? nil, causationID: row["causation_id"] ?? nil,
                occurredAt: ReadModelQueries.date(row["occurred_at"]) ?? Date(timeIntervalSince1970: 0), payload: Array(payload.utf8)
            )
            try EventProjection.reapply(event, in: session)
        }
        let ids = rows.compactMap { $0["event_id"] ?? nil }
        if !ids.isEmpty {
            try session.query("INSERT INTO \(schema).\(appliedTable) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", [ReadModelQueries.textArray(ids)])
        }
        return (rows.count, last)
    }

    /// The schema's statements that create `tables` and their indexes.
    static func statements(for tables: [String]) -> [String] {
        ReadModelSchema.statements.filter { statement in
            tables.contains { table in
                statement.contains("CREATE TABLE IF NOT EXISTS \(table) (") || statement.contains(" ON \(table) ") || statement.contains("ALTER TABLE \(table) ")
            }
        }
    }
}
