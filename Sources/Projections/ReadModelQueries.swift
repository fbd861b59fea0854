import Contracts
import Foundation
import JSONCodec
import Postgres

/// The catalog, customer and cart queries, answered from the read models.
public struct ReadModelQueries: Sendable {
    let database: PostgresConnection

    public init(database: PostgresConnection) {
        self.database = database
    }

    static let productColumns = "product_id, sku, name, description, category, price_minor, currency, weight_grams, attributes::text AS attributes, deleted"

    static func product(_ row: [String: String?]) -> ProductView? {
        guard let id = row["product_id"] ?? nil, let sku = row["sku"] ?? nil, let name = row["name"] ?? nil,
            let price = (row["price_minor"] ?? nil).flatMap(Int.init), let currency = row["currency"] ?? nil
        else { return nil }
        let attributes = (row["attributes"] ?? nil).flatMap { try? SoukJSON.decode([String: String].self, from: $0.utf8) } ?? [:]
        return ProductView(
            productId: id, sku: sku, name: name, description: row["description"] ?? nil, category: row["category"] ?? nil,
            price: Money(price, currency), weightGrams: (row["weight_grams"] ?? nil).flatMap(Int.init), attributes: attributes,
            deleted: (row["deleted"] ?? nil) == "t"
        )
    }

    /// GetProduct: a deleted product is still found (flagged), so that old orders can show it.
    public func product(_ query: GetProduct) async throws -> ProductView? {
        let rows = try await database.query("SELECT \(Self.productColumns) FROM products WHERE product_id = $1", [query.productId])
        return rows.records.first.flatMap(Self.product)
    }

    /// ListProducts: products on sale, filtered and sorted, with keyset pagination.
    public func products(_ query: ListProducts) async throws -> Page<ProductView> {
        let limit = min(max(query.limit ?? 20, 1), 100)
        let sort = query.sort ?? "name"
        let descending = sort.hasPrefix("-")
        let (column, type) = ["name": ("name", "text"), "price": ("price_minor", "bigint"), "created": ("created_at", "timestamptz")][
            String(sort.drop { $0 == "-" })
        ] ?? ("name", "text")
        var conditions = ["NOT deleted"]
        var parameters: [String?] = []
        func parameter(_ value: String) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if let category = query.category { conditions.append("category = \(parameter(category))") }
        if let minimum = query.minPriceMinor { conditions.append("price_minor >= \(parameter(String(minimum)))") }
        if let maximum = query.maxPriceMinor { conditions.append("price_minor <= \(parameter(String(maximum)))") }
        if let cursor = try ProductCursor.decode(query.cursor, as: type) {
            let comparison = descending ? "<" : ">"
            conditions.append("(\(column), product_id) \(comparison) (\(parameter(cursor.sortValue))::\(type), \(parameter(cursor.productId)))")
        }
        let direction = descending ? "DESC" : "ASC"
        let sql = """
            SELECT \(Self.productColumns), \(column)::text AS sort_value FROM products WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(column) \(direction), product_id \(direction) LIMIT \(limit + 1)
            """
        let rows = try await database.query(sql, parameters).records
        let items = rows.prefix(limit).compactMap(Self.product)
        let next = rows.count > limit ? rows[limit - 1] : nil
        let cursor = next.flatMap { row in
            ProductCursor(sortValue: (row["sort_value"] ?? nil) ?? "", productId: (row["product_id"] ?? nil) ?? "").encoded
        }
        return Page(items: Array(items), nextCursor: cursor)
    }

    /// SearchProducts: every word of the query must match the product, either as a full-text lexeme of
    /// its name, category or description, or by trigram word similarity (so "olong" finds "oolong").
    public func search(_ query: SearchProducts) async throws -> [ProductView] {
        let limit = min(max(query.limit ?? 20, 1), 100)
        let words = Self.words(query.q)
        guard !words.isEmpty else { return [] }
        let conditions = words.indices.map { index in
            "(search @@ plainto_tsquery('simple', unaccent($\(index + 2))) OR $\(index + 2) <% search_text)"
        }
        return try await database.transaction { session in
            try session.query("SET LOCAL pg_trgm.word_similarity_threshold = 0.3")
            let rows = try session.query(
                """
                SELECT \(Self.productColumns),
                       ts_rank(search, plainto_tsquery('simple', unaccent($1))) + word_similarity($1, search_text) AS score
                FROM products
                WHERE NOT deleted AND \(conditions.joined(separator: " AND "))
                ORDER BY score DESC, product_id LIMIT \(limit)
                """,
                [words.joined(separator: " ")] + words.map { Optional($0) }
            )
            return rows.records.compactMap(Self.product)
        }
    }

    /// Lower-cased words of a search query, at most eight.
    static func words(_ query: String) -> [String] {
        Array(query.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "-" }.map(String.init).prefix(8))
    }

    public func inventoryLevel(_ query: GetInventoryLevel) async throws -> InventoryLevelView? {
        let rows = try await database.query("SELECT available, reserved, sold FROM inventory_levels WHERE sku = $1", [query.sku])
        guard let row = rows.records.first, let available = (row["available"] ?? nil).flatMap(Int.init),
            let reserved = (row["reserved"] ?? nil).flatMap(Int.init), let sold = (row["sold"] ?? nil).flatMap(Int.init)
        else { return nil }
        return InventoryLevelView(sku: query.sku, available: available, reserved: reserved, sold: sold)
    }

    public func customerProfile(_ query: GetCustomerProfile) async throws -> CustomerProfileView? {
        let rows = try await database.query(
            "SELECT email, name, phone, default_address_id, payment_method::text AS payment_method FROM customers WHERE customer_id = $1",
            [query.customerId]
        )
        guard let row = rows.records.first, let email = row["email"] ?? nil, let name = row["name"] ?? nil else { return nil }
        let payment = (row["payment_method"] ?? nil).flatMap { try? SoukJSON.decode([String: String].self, from: $0.utf8) }
        return CustomerProfileView(
            customerId: query.customerId, email: email, name: name, phone: row["phone"] ?? nil,
            defaultAddressId: row["default_address_id"] ?? nil, paymentMethod: payment
        )
    }

    public func customerAddresses(_ query: GetCustomerAddresses) async throws -> CustomerAddressesView? {
        guard let profile = try await customerProfile(GetCustomerProfile(customerId: query.customerId)) else { return nil }
        let rows = try await database.query(
            "SELECT address::text AS address FROM customer_addresses WHERE customer_id = $1 ORDER BY address_id", [query.customerId]
        )
        let addresses = rows.records.compactMap { ($0["address"] ?? nil).flatMap { try? SoukJSON.decode(Address.self, from: $0.utf8) } }
        return CustomerAddressesView(customerId: query.customerId, defaultAddressId: profile.defaultAddressId, addresses: addresses)
    }

    public func cart(_ query: GetCart) async throws -> CartView? {
        let rows = try await database.query(
            """
            SELECT customer_id, currency, items::text AS items, coupon_code, subtotal_minor, discount_minor, total_minor, checked_out_by
            FROM carts WHERE cart_id = $1
            """,
            [query.cartId]
        )
        guard let row = rows.records.first, let customer = row["customer_id"] ?? nil, let currency = row["currency"] ?? nil else { return nil }
        let stored = (row["items"] ?? nil).flatMap { try? SoukJSON.decode([String: CartItem].self, from: $0.utf8) } ?? [:]
        let items = stored.keys.sorted().map { id in
            let item = stored[id]!
            return CartView.Item(productId: id, sku: item.sku, name: item.name, quantity: item.quantity, unitPrice: Money(item.unitPriceMinor, currency))
        }
        func money(_ column: String) -> Money { Money((row[column] ?? nil).flatMap(Int.init) ?? 0, currency) }
        return CartView(
            cartId: query.cartId, customerId: customer, currency: currency, items: items, couponCode: row["coupon_code"] ?? nil,
            totals: CartTotals(subtotal: money("subtotal_minor"), discount: money("discount_minor"), total: money("total_minor")),
            checkedOutBy: row["checked_out_by"] ?? nil
        )
    }

    public func cartTotal(_ query: GetCartTotal) async throws -> CartTotals? {
        try await cart(GetCart(cartId: query.cartId))?.totals
    }

    public func appliedDiscounts(_ query: GetAppliedDiscounts) async throws -> AppliedDiscountsView? {
        guard let cart = try await cart(GetCart(cartId: query.cartId)) else { return nil }
        let discounts = cart.couponCode.map { [AppliedDiscountsView.Discount(couponCode: $0, amount: cart.totals.discount)] } ?? []
        return AppliedDiscountsView(cartId: query.cartId, discounts: discounts)
    }

    public func commandOutcome(_ commandId: String) async throws -> CommandOutcomeView? {
        try await commandOutcomes([commandId])[commandId]
    }

    /// The outcomes known for any of `commandIds`, by id, in one query.
    public func commandOutcomes(_ commandIds: [String]) async throws -> [String: CommandOutcomeView] {
        guard !commandIds.isEmpty else { return [:] }
        let rows = try await database.query(
            "SELECT command_id, status, event_type, aggregate_id, reason, field FROM command_outcomes WHERE command_id = ANY($1::text[])",
            [Self.textArray(commandIds)]
        )
        var outcomes: [String: CommandOutcomeView] = [:]
        for row in rows.records {
            guard let id = row["command_id"] ?? nil, let status = row["status"] ?? nil, let type = row["event_type"] ?? nil else { continue }
            outcomes[id] = CommandOutcomeView(
                commandId: id, status: status, eventType: type, aggregateId: row["aggregate_id"] ?? nil, reason: row["reason"] ?? nil,
                field: row["field"] ?? nil
            )
        }
        return outcomes
    }

    /// A PostgreSQL text[] literal, for `= ANY($1::text[])`.
    static func textArray(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}"
    }
}

/// Where a product list page ended: the sort value and id of its last item.
/// A `cursor` that no page of this API handed out: a 400, never a query that fails in the database.
public struct BadCursor: Error, CustomStringConvertible {
    public var description: String { "the cursor is not one a page of this list gave out" }
}

struct ProductCursor: Equatable {
    var sortValue: String
    var productId: String

    init(sortValue: String, productId: String) {
        self.sortValue = sortValue
        self.productId = productId
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
            let separator = text.lastIndex(of: "\u{1F}")
        else { return nil }
        sortValue = String(text[..<separator])
        productId = String(text[text.index(after: separator)...])
    }

    var encoded: String { Data("\(sortValue)\u{1F}\(productId)".utf8).base64EncodedString() }

    /// The cursor a caller sent, checked against the type of the column it continues (`text`,
    /// `bigint` or `timestamptz`, as PostgreSQL writes it as text): `nil` when none was sent.
    static func decode(_ encoded: String?, as type: String) throws(BadCursor) -> ProductCursor? {
        guard let encoded else { return nil }
        guard let cursor = ProductCursor(encoded: encoded), !cursor.productId.isEmpty else { throw BadCursor() }
        let valid: Bool
        switch type {
        case "bigint": valid = Int64(cursor.sortValue) != nil
        case "timestamptz": valid = cursor.sortValue.range(of: #"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)$"#, options: .regularExpression) != nil
        default: valid = true
        }
        guard valid, !cursor.sortValue.unicodeScalars.contains(where: { $0.value == 0 }) else { throw BadCursor() }
        return cursor
    }
}
