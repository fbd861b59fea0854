/// Who owns a cart, an order or a shipment: what the query API checks before it shows one to a customer.
extension ReadModelQueries {
    public func orderOwner(_ orderId: String) async throws -> String? {
        try await owner("SELECT customer_id FROM orders WHERE order_id = $1", orderId)
    }

    public func cartOwner(_ cartId: String) async throws -> String? {
        try await owner("SELECT customer_id FROM carts WHERE cart_id = $1", cartId)
    }

    public func shipmentOwner(_ shipmentId: String) async throws -> String? {
        try await owner("SELECT o.customer_id FROM shipments s JOIN orders o ON o.order_id = s.order_id WHERE s.shipment_id = $1", shipmentId)
    }

    private func owner(_ sql: String, _ id: String) async throws -> String? {
        try await database.query(sql, [id]).records.first.flatMap { $0["customer_id"] ?? nil }
    }
}
