import Postgres

/// The PostgreSQL schema of the event archive, the read models and the projector's positions.
/// Idempotent: every start runs it.
public enum ReadModelSchema {
    public static let statements = [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        """
        CREATE TABLE IF NOT EXISTS event_archive (
            event_id text PRIMARY KEY,
            event_type text NOT NULL,
            topic text NOT NULL,
            kafka_partition integer NOT NULL,
            kafka_offset bigint NOT NULL,
            event_key text,
            correlation_id text,
            causation_id text,
            occurred_at timestamptz NOT NULL,
            payload jsonb,
            archived_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX IF NOT EXISTS event_archive_correlation ON event_archive (correlation_id)",
        "CREATE INDEX IF NOT EXISTS event_archive_position ON event_archive (topic, kafka_partition, kafka_offset, event_id)",
        // A rebuild's catch-up looks at what was archived since it began.
        "CREATE INDEX IF NOT EXISTS event_archive_archived_at ON event_archive (archived_at)",
        ProjectionDeadLetters.schema,
        """
        CREATE TABLE IF NOT EXISTS projection_positions (
            projector text NOT NULL,
            topic text NOT NULL,
            kafka_partition integer NOT NULL,
            next_offset bigint NOT NULL,
            PRIMARY KEY (projector, topic, kafka_partition)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS command_outcomes (
            command_id text PRIMARY KEY,
            status text NOT NULL,
            event_type text NOT NULL,
            aggregate_id text,
            reason text,
            field text,
            decided_at timestamptz NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS products (
            product_id text PRIMARY KEY,
            sku text NOT NULL,
            name text NOT NULL,
            description text,
            category text,
            price_minor bigint NOT NULL,
            currency text NOT NULL,
            weight_grams integer,
            attributes jsonb NOT NULL DEFAULT '{}',
            deleted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            search tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
                setweight(to_tsvector('simple', coalesce(category, '')), 'B') ||
                setweight(to_tsvector('simple', coalesce(description, '')), 'C')
            ) STORED
        )
        """,
        "CREATE INDEX IF NOT EXISTS products_search ON products USING gin (search)",
        """
        ALTER TABLE products ADD COLUMN IF NOT EXISTS search_text text GENERATED ALWAYS AS (
            lower(coalesce(name, '') || ' ' || coalesce(category, '') || ' ' || coalesce(description, ''))
        ) STORED
        """,
        "CREATE INDEX IF NOT EXISTS products_search_text_trgm ON products USING gin (search_text gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS products_category_price ON products (category, price_minor)",
        """
        CREATE TABLE IF NOT EXISTS inventory_levels (
            sku text PRIMARY KEY,
            available integer NOT NULL,
            reserved integer NOT NULL,
            sold integer NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS customers (
            customer_id text PRIMARY KEY,
            email text NOT NULL,
            name text NOT NULL,
            phone text,
            default_address_id text,
            payment_method jsonb,
            registered_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS customer_addresses (
            customer_id text NOT NULL,
            address_id text NOT NULL,
            address jsonb NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, address_id)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS carts (
            cart_id text PRIMARY KEY,
            customer_id text NOT NULL,
            currency text NOT NULL,
            items jsonb NOT NULL DEFAULT '{}',
            coupon_code text,
            subtotal_minor bigint NOT NULL DEFAULT 0,
            discount_minor bigint NOT NULL DEFAULT 0,
            total_minor bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        // GetOrderHistory reads the archive: every event that names the order, in order.
        "CREATE INDEX IF NOT EXISTS event_archive_order ON event_archive ((payload->>'orderId'), occurred_at, kafka_offset)",
        """
        CREATE TABLE IF NOT EXISTS orders (
            order_id text PRIMARY KEY,
            customer_id text NOT NULL,
            status text NOT NULL,
            reason text,
            total_minor bigint NOT NULL,
            currency text NOT NULL,
            lines jsonb NOT NULL,
            shipping_address jsonb NOT NULL,
            shipment_id text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at DESC, order_id DESC)",
        "CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id, created_at DESC, order_id DESC)",
        "CREATE INDEX IF NOT EXISTS orders_status ON orders (status, created_at DESC, order_id DESC)",
        """
        CREATE TABLE IF NOT EXISTS payments (
            payment_id text PRIMARY KEY,
            order_id text NOT NULL,
            status text NOT NULL,
            amount_minor bigint,
            currency text,
            captured_minor bigint NOT NULL DEFAULT 0,
            refunded_minor bigint NOT NULL DEFAULT 0,
            provider text,
            provider_reference text,
            reason text,
            updated_at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS payments_order ON payments (order_id)",
        """
        CREATE TABLE IF NOT EXISTS refunds (
            payment_id text NOT NULL,
            refund_id text NOT NULL,
            order_id text NOT NULL,
            status text NOT NULL,
            amount_minor bigint NOT NULL,
            currency text NOT NULL,
            provider_reference text,
            initiated_at timestamptz,
            completed_at timestamptz,
            PRIMARY KEY (payment_id, refund_id)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS shipments (
            shipment_id text PRIMARY KEY,
            order_id text NOT NULL,
            status text NOT NULL,
            carrier text,
            service text,
            cost_minor bigint,
            currency text,
            estimated_delivery_days integer,
            address jsonb NOT NULL,
            weight_grams integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            delivered_at timestamptz
        )
        """,
        "CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id)",
        """
        CREATE TABLE IF NOT EXISTS shipment_tracking (
            event_id text PRIMARY KEY,
            shipment_id text NOT NULL,
            status text NOT NULL,
            location text,
            note text,
            at timestamptz NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS shipment_tracking_shipment ON shipment_tracking (shipment_id, at)",
        // A checked-out cart names the order that took it.
        "ALTER TABLE carts ADD COLUMN IF NOT EXISTS checked_out_by text",
        "ALTER TABLE carts ADD COLUMN IF NOT EXISTS checked_out_at timestamptz",
    ]

    public static func migrate(_ connection: PostgresConnection) async throws {
        try await connection.transaction { session in
            // Concurrent starts serialise here instead of racing on CREATE … IF NOT EXISTS.
            try session.query("SELECT pg_advisory_xact_lock(727474)")
            for statement in statements { try session.query(statement) }
        }
    }
}
