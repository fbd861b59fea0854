import Contracts
import Foundation
import JSONCodec
import Postgres
import Timestamps

/// The order, payment and shipping queries, answered from the read models.
extension ReadModelQueries {
    static let orderColumns = """
        order_id, customer_id, status, reason, total_minor, currency, lines::text AS lines, shipping_address::text AS shipping_address, shipment_id,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at
        """

    static func timestamp(_ column: String, as name: String? = nil) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \(name ?? column)"
    }

    static func date(_ text: String??) -> Date? {
        (text ?? nil).flatMap { Date(rfc3339: $0) }
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String??) -> T? {
        (text ?? nil).flatMap { try? SoukJSON.decode(T.self, from: $0.utf8) }
    }

    static func order(_ row: [String: String?]) -> OrderView? {
        guard let id = row["order_id"] ?? nil, let customer = row["customer_id"] ?? nil, let status = row["status"] ?? nil,
            let total = (row["total_minor"] ?? nil).flatMap(Int.init), let currency = row["currency"] ?? nil,
            let lines = decodeJSON([OrderLine].self, row["lines"]), let address = decodeJSON(Address.self, row["shipping_address"]),
            let created = date(row["created_at"]), let updated = date(row["updated_at"])
        else { return nil }
        return OrderView(
            orderId: id, customerId: customer, status: status, reason: row["reason"] ?? nil, total: Money(total, currency), lines: lines,
            shippingAddress: address, shipmentId: row["shipment_id"] ?? nil, createdAt: created, updatedAt: updated
        )
    }

    public func order(_ query: GetOrder) async throws -> OrderView? {
        try await database.query("SELECT \(Self.orderColumns) FROM orders WHERE order_id = $1", [query.orderId]).records.first.flatMap(Self.order)
    }

    /// ListOrders: newest first, optionally by status.
    public func orders(_ query: ListOrders) async throws -> Page<OrderView> {
        try await orderPage(status: query.status, customerId: nil, cursor: query.cursor, limit: query.limit)
    }

    /// GetCustomerOrders: one customer's orders, newest first.
    public func customerOrders(_ query: GetCustomerOrders) async throws -> Page<OrderView> {
        try await orderPage(status: nil, customerId: query.customerId, cursor: query.cursor, limit: query.limit)
    }

    private func orderPage(status: String?, customerId: String?, cursor: String?, limit: Int?) async throws -> Page<OrderView> {
        let limit = min(max(limit ?? 20, 1), 100)
        var conditions = ["true"]
        var parameters: [String?] = []
        func parameter(_ value: String) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if let status { conditions.append("status = \(parameter(status))") }
        if let customerId { conditions.append("customer_id = \(parameter(customerId))") }
        if let cursor = try ProductCursor.decode(cursor, as: "timestamptz") {
            conditions.append("(created_at, order_id) < (\(parameter(cursor.sortValue))::timestamptz, \(parameter(cursor.productId)))")
        }
        let rows = try await database.query(
            """
            SELECT \(Self.orderColumns), created_at::text AS sort_value FROM orders WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, order_id DESC LIMIT \(limit + 1)
            """,
            parameters
        ).records
        let next = rows.count > limit ? rows[limit - 1] : nil
        return Page(
            items: rows.prefix(limit).compactMap(Self.order),
            nextCursor: next.map { ProductCursor(sortValue: ($0["sort_value"] ?? nil) ?? "", productId: ($0["order_id"] ?? nil) ?? "").encoded }
        )
    }

    /// GetOrderHistory: every archived event that names the order (its own, its payment's, its shipment's).
    public func orderHistory(_ query: GetOrderHistory) async throws -> OrderHistoryView? {
        let rows = try await database.query(
            """
            SELECT event_type, \(Self.timestamp("occurred_at")), coalesce(payload->>'status', payload->>'reason', payload->>'carrier') AS detail
            FROM event_archive WHERE payload->>'orderId' = $1 ORDER BY occurred_at, topic, kafka_offset
            """,
            [query.orderId]
        ).records
        guard !rows.isEmpty else { return nil }
        let steps = rows.compactMap { row -> OrderHistoryView.Step? in
            guard let type = row["event_type"] ?? nil, let at = Self.date(row["occurred_at"]) else { return nil }
            let name = type.split(separator: ".").dropLast().last.map(String.init) ?? type
            return OrderHistoryView.Step(event: name, at: at, detail: row["detail"] ?? nil)
        }
        return OrderHistoryView(orderId: query.orderId, steps: steps)
    }

    /// GetOrderStatus: the status and, while the order runs, what it waits for.
    public func orderStatus(_ query: GetOrderStatus) async throws -> OrderStatusView? {
        let rows = try await database.query(
            """
            SELECT o.status, o.reason, to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at, s.status AS shipment_status
            FROM orders o LEFT JOIN shipments s ON s.order_id = o.order_id
            WHERE o.order_id = $1
            """,
            [query.orderId]
        ).records
        guard let row = rows.first, let status = row["status"] ?? nil, let updated = Self.date(row["updated_at"]) else { return nil }
        let shipment = row["shipment_status"] ?? nil
        let waitingFor: String? =
            switch status {
            case "reserving": "stock reservations"
            case "awaiting_payment": "payment"
            case "shipping":
                switch shipment {
                case nil: "the shipment to be created"
                case "created": "a carrier to be assigned"
                case "assigned": "pickup by the carrier"
                default: "delivery"
                }
            default: nil
            }
        return OrderStatusView(orderId: query.orderId, status: status, reason: row["reason"] ?? nil, waitingFor: waitingFor, updatedAt: updated)
    }

    static func refund(_ row: [String: String?]) -> RefundView? {
        guard let payment = row["payment_id"] ?? nil, let refund = row["refund_id"] ?? nil, let order = row["order_id"] ?? nil,
            let status = row["status"] ?? nil, let amount = (row["amount_minor"] ?? nil).flatMap(Int.init), let currency = row["currency"] ?? nil
        else { return nil }
        return RefundView(
            paymentId: payment, refundId: refund, orderId: order, status: status, amount: Money(amount, currency),
            providerReference: row["provider_reference"] ?? nil, initiatedAt: date(row["initiated_at"]), completedAt: date(row["completed_at"])
        )
    }

    static let refundColumns = "payment_id, refund_id, order_id, status, amount_minor, currency, provider_reference, \(timestamp("initiated_at")), \(timestamp("completed_at"))"

    private func payments(where condition: String, _ parameters: [String?], limit: Int) async throws -> [PaymentView] {
        let rows = try await database.query(
            """
            SELECT payment_id, order_id, status, amount_minor, currency, captured_minor, refunded_minor, provider, provider_reference, reason,
                \(Self.timestamp("updated_at")), updated_at::text AS sort_value
            FROM payments WHERE \(condition) ORDER BY updated_at DESC, payment_id DESC LIMIT \(limit)
            """,
            parameters
        ).records
        // One query for the refunds of every payment on the page, not one per payment.
        let ids = rows.compactMap { $0["payment_id"] ?? nil }
        let refundRows = ids.isEmpty ? [] : try await database.query(
            "SELECT \(Self.refundColumns) FROM refunds WHERE payment_id = ANY($1::text[]) ORDER BY payment_id, refund_id",
            [Self.textArray(ids)]
        ).records
        let refundsByPayment = Dictionary(grouping: refundRows.compactMap(Self.refund), by: \.paymentId)
        var views: [PaymentView] = []
        for row in rows {
            guard let id = row["payment_id"] ?? nil, let order = row["order_id"] ?? nil, let status = row["status"] ?? nil,
                let updated = Self.date(row["updated_at"])
            else { continue }
            let currency = (row["currency"] ?? nil) ?? ""
            func money(_ column: String) -> Money? { (row[column] ?? nil).flatMap(Int.init).map { Money($0, currency) } }
            views.append(PaymentView(
                paymentId: id, orderId: order, status: status, amount: money("amount_minor"), captured: money("captured_minor"),
                refunded: money("refunded_minor"), provider: row["provider"] ?? nil, providerReference: row["provider_reference"] ?? nil,
                reason: row["reason"] ?? nil, refunds: refundsByPayment[id] ?? [], updatedAt: updated
            ))
        }
        return views
    }

    public func paymentStatus(_ query: GetPaymentStatus) async throws -> PaymentView? {
        try await payments(where: "payment_id = $1", [query.paymentId], limit: 1).first
    }

    /// GetPaymentHistory: the payments of a customer's orders, most recently changed first.
    public func paymentHistory(_ query: GetPaymentHistory) async throws -> Page<PaymentView> {
        let limit = min(max(query.limit ?? 20, 1), 100)
        var condition = "order_id IN (SELECT order_id FROM orders WHERE customer_id = $1)"
        var parameters: [String?] = [query.customerId]
        if let cursor = try ProductCursor.decode(query.cursor, as: "timestamptz") {
            condition += " AND (updated_at, payment_id) < ($2::timestamptz, $3)"
            parameters += [cursor.sortValue, cursor.productId]
        }
        let page = try await payments(where: condition, parameters, limit: limit + 1)
        let next = page.count > limit ? page[limit - 1] : nil
        return Page(
            items: Array(page.prefix(limit)),
            nextCursor: next.map { ProductCursor(sortValue: $0.updatedAt.rfc3339, productId: $0.paymentId).encoded }
        )
    }

    public func refundStatus(_ query: GetRefundStatus) async throws -> RefundView? {
        try await database.query("SELECT \(Self.refundColumns) FROM refunds WHERE payment_id = $1 AND refund_id = $2", [query.paymentId, query.refundId])
            .records.first.flatMap(Self.refund)
    }

    /// GetShipmentStatus: the order's shipment.
    public func shipmentStatus(_ query: GetShipmentStatus) async throws -> ShipmentView? {
        let rows = try await database.query(
            """
            SELECT shipment_id, order_id, status, carrier, service, cost_minor, currency, estimated_delivery_days, weight_grams,
                \(Self.timestamp("created_at")), \(Self.timestamp("updated_at")), \(Self.timestamp("delivered_at"))
            FROM shipments WHERE order_id = $1 ORDER BY created_at DESC LIMIT 1
            """,
            [query.orderId]
        ).records
        guard let row = rows.first, let id = row["shipment_id"] ?? nil, let order = row["order_id"] ?? nil, let status = row["status"] ?? nil,
            let weight = (row["weight_grams"] ?? nil).flatMap(Int.init), let created = Self.date(row["created_at"]), let updated = Self.date(row["updated_at"])
        else { return nil }
        let cost = (row["cost_minor"] ?? nil).flatMap(Int.init).map { Money($0, (row["currency"] ?? nil) ?? "") }
        return ShipmentView(
            shipmentId: id, orderId: order, status: status, carrier: row["carrier"] ?? nil, service: row["service"] ?? nil, cost: cost,
            estimatedDeliveryDays: (row["estimated_delivery_days"] ?? nil).flatMap(Int.init), weightGrams: weight, createdAt: created, updatedAt: updated,
            deliveredAt: Self.date(row["delivered_at"])
        )
    }

    /// TrackShipment: the status history, oldest first.
    public func tracking(_ query: TrackShipment) async throws -> TrackingView? {
        let shipment = try await database.query("SELECT status FROM shipments WHERE shipment_id = $1", [query.shipmentId]).records.first
        guard let status = (shipment?["status"] ?? nil) else { return nil }
        let rows = try await database.query(
            // Events of one shipment share a partition: at equal times, the log's order is theirs (event
            // ids are hashes and say nothing about order).
            """
            SELECT t.status, t.location, t.note, \(Self.timestamp("t.at", as: "at")) FROM shipment_tracking t
            LEFT JOIN event_archive a ON a.event_id = t.event_id
            WHERE t.shipment_id = $1 ORDER BY t.at, a.kafka_offset, t.event_id
            """, [query.shipmentId]
        ).records
        let events = rows.compactMap { row -> TrackingView.Event? in
            guard let status = row["status"] ?? nil, let at = Self.date(row["at"]) else { return nil }
            return TrackingView.Event(status: status, location: row["location"] ?? nil, note: row["note"] ?? nil, at: at)
        }
        return TrackingView(shipmentId: query.shipmentId, status: status, events: events)
    }
}
