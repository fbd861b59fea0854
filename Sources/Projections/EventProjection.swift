import Contracts
import Foundation
import JSONCodec
import Postgres
import Streams
import Timestamps

/// An event as the projector stores it.
public struct ProjectedEvent: Sendable, Equatable {
    public var id: String
    public var type: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: String?
    public var correlationID: String?
    public var causationID: String?
    public var occurredAt: Date
    public var payload: [UInt8]

    public init(
        id: String, type: String, topic: String, partition: Int32, offset: Int64, key: String?, correlationID: String?,
        causationID: String?, occurredAt: Date, payload: [UInt8]
    ) {
        self.id = id
        self.type = type
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.correlationID = correlationID
        self.causationID = causationID
        self.occurredAt = occurredAt
        self.payload = payload
    }
}

/// Applies events to the archive and the read models, inside the caller's transaction.
///
/// The archive is unique on the event id, and a read model changes only when the archive row is new:
/// a redelivered event (a replay, a restart, a leaked aborted copy) is applied exactly once.
public enum EventProjection {
    /// - Returns: whether the event was new (and so applied).
    @discardableResult
    public static func apply(_ event: ProjectedEvent, in session: PostgresSession) throws -> Bool {
        let payloadText = String(decoding: event.payload, as: UTF8.self)
        let validJSON = (try? JSONValue.parse(event.payload)) != nil
        let inserted = try session.query(
            """
            INSERT INTO event_archive (event_id, event_type, topic, kafka_partition, kafka_offset, event_key, correlation_id,
                                       causation_id, occurred_at, payload)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) ON CONFLICT (event_id) DO NOTHING
            """,
            [
                event.id, event.type, event.topic, String(event.partition), String(event.offset), event.key, event.correlationID,
                event.causationID, event.occurredAt.rfc3339, validJSON ? payloadText : nil,
            ]
        )
        guard inserted.affected == 1 else { return false }
        try applyReadModels(event, session)
        return true
    }

    static func json(_ value: some Encodable) throws -> String {
        try SoukJSON.text(value)
    }

    /// Applies an archived event to the read models only (no archive row, no command outcome): what a
    /// rebuild replays into fresh tables.
    public static func reapply(_ event: ProjectedEvent, in session: PostgresSession) throws {
        try applyReadModels(event, session, recordOutcome: false)
    }

    private static func applyReadModels(_ event: ProjectedEvent, _ session: PostgresSession, recordOutcome: Bool = true) throws {
        let bytes = event.payload
        let at = event.occurredAt.rfc3339
        switch event.type {
        case ProductCreated.typeName:
            let e = try ProductCreated.decode(bytes)
            try session.query(
                """
                INSERT INTO products (product_id, sku, name, description, category, price_minor, currency, weight_grams, attributes,
                                      created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $10)
                ON CONFLICT (product_id) DO UPDATE SET sku = $2, name = $3, description = $4, category = $5, price_minor = $6,
                    currency = $7, weight_grams = $8, attributes = $9::jsonb, deleted = false, updated_at = $10
                """,
                [
                    e.productId, e.sku, e.name, e.description, e.category, String(e.price.amountMinor), e.price.currency,
                    e.weightGrams.map(String.init), try json(e.attributes), e.createdAt.rfc3339,
                ]
            )
        case ProductUpdated.typeName:
            let e = try ProductUpdated.decode(bytes)
            try session.query(
                """
                UPDATE products SET name = $2, description = $3, category = $4, weight_grams = $5, attributes = $6::jsonb, updated_at = $7
                WHERE product_id = $1
                """,
                [e.productId, e.name, e.description, e.category, e.weightGrams.map(String.init), try json(e.attributes), e.updatedAt.rfc3339]
            )
        case PriceChanged.typeName:
            let e = try PriceChanged.decode(bytes)
            try session.query(
                "UPDATE products SET price_minor = $2, currency = $3, updated_at = $4 WHERE product_id = $1",
                [e.productId, String(e.newPrice.amountMinor), e.newPrice.currency, e.changedAt.rfc3339]
            )
        case ProductDeleted.typeName:
            let e = try ProductDeleted.decode(bytes)
            try session.query("UPDATE products SET deleted = true, updated_at = $2 WHERE product_id = $1", [e.productId, e.deletedAt.rfc3339])
        case InventoryUpdated.typeName:
            let e = try InventoryUpdated.decode(bytes)
            try session.query(
                """
                INSERT INTO inventory_levels (sku, available, reserved, sold, updated_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (sku) DO UPDATE SET available = $2, reserved = $3, sold = $4, updated_at = $5
                """,
                [e.sku, String(e.available), String(e.reserved), String(e.sold), e.updatedAt.rfc3339]
            )
        case CustomerRegistered.typeName:
            let e = try CustomerRegistered.decode(bytes)
            try session.query(
                """
                INSERT INTO customers (customer_id, email, name, phone, registered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
                ON CONFLICT (customer_id) DO NOTHING
                """,
                [e.customerId, e.email, e.name, e.phone, e.registeredAt.rfc3339]
            )
        case ProfileUpdated.typeName:
            let e = try ProfileUpdated.decode(bytes)
            try session.query(
                "UPDATE customers SET name = $2, phone = $3, updated_at = $4 WHERE customer_id = $1",
                [e.customerId, e.name, e.phone, e.updatedAt.rfc3339]
            )
        case AddressUpdated.typeName:
            let e = try AddressUpdated.decode(bytes)
            try session.query(
                """
                INSERT INTO customer_addresses (customer_id, address_id, address, updated_at) VALUES ($1, $2, $3::jsonb, $4)
                ON CONFLICT (customer_id, address_id) DO UPDATE SET address = $3::jsonb, updated_at = $4
                """,
                [e.customerId, e.address.addressId, try json(e.address), e.updatedAt.rfc3339]
            )
            try session.query(
                "UPDATE customers SET default_address_id = $2, updated_at = $3 WHERE customer_id = $1",
                [e.customerId, e.defaultAddressId, e.updatedAt.rfc3339]
            )
        case BillingInfoUpdated.typeName:
            let e = try BillingInfoUpdated.decode(bytes)
            let display = ["paymentMethodToken": e.paymentMethodToken, "brand": e.brand, "last4": e.last4, "expiry": String(format: "%02d/%d", e.expiryMonth, e.expiryYear)]
            try session.query(
                "UPDATE customers SET payment_method = $2::jsonb, updated_at = $3 WHERE customer_id = $1",
                [e.customerId, try json(display), e.updatedAt.rfc3339]
            )
        case CartCreated.typeName:
            let e = try CartCreated.decode(bytes)
            try session.query(
                "INSERT INTO carts (cart_id, customer_id, currency, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (cart_id) DO NOTHING",
                [e.cartId, e.customerId, e.currency, e.createdAt.rfc3339]
            )
        case ItemAdded.typeName:
            let e = try ItemAdded.decode(bytes)
            let item = CartItem(sku: e.sku, name: e.name, quantity: e.quantity, unitPriceMinor: e.unitPrice.amountMinor)
            try session.query(
                "UPDATE carts SET items = jsonb_set(items, ARRAY[$2], $3::jsonb) WHERE cart_id = $1",
                [e.cartId, e.productId, try json(item)]
            )
            try setTotals(e.cartId, e.totals, at, session)
        case ItemRemoved.typeName:
            let e = try ItemRemoved.decode(bytes)
            try session.query("UPDATE carts SET items = items - $2 WHERE cart_id = $1", [e.cartId, e.productId])
            try setTotals(e.cartId, e.totals, at, session)
        case QuantityUpdated.typeName:
            let e = try QuantityUpdated.decode(bytes)
            try session.query(
                "UPDATE carts SET items = jsonb_set(items, ARRAY[$2, 'quantity'], to_jsonb($3::integer)) WHERE cart_id = $1",
                [e.cartId, e.productId, String(e.quantity)]
            )
            try setTotals(e.cartId, e.totals, at, session)
        case CouponApplied.typeName:
            let e = try CouponApplied.decode(bytes)
            try session.query("UPDATE carts SET coupon_code = $2 WHERE cart_id = $1", [e.cartId, e.couponCode])
            try setTotals(e.cartId, e.totals, at, session)
        case CartRevised.typeName:
            let e = try CartRevised.decode(bytes)
            let items = Dictionary(e.lines.map { ($0.productId, CartItem(sku: $0.sku, name: $0.name, quantity: $0.quantity, unitPriceMinor: $0.unitPrice.amountMinor)) }) { $1 }
            // A revised cart is open: a checkout was refused, or its order did not start.
            try session.query(
                "UPDATE carts SET items = $2::jsonb, coupon_code = $3, checked_out_by = NULL, checked_out_at = NULL WHERE cart_id = $1",
                [e.cartId, try json(items), e.couponCode]
            )
            try setTotals(e.cartId, e.totals, at, session)
        case CartCheckedOut.typeName:
            let e = try CartCheckedOut.decode(bytes)
            try session.query(
                "UPDATE carts SET checked_out_by = $2, checked_out_at = $3 WHERE cart_id = $1", [e.cartId, e.orderId, e.checkedOutAt.rfc3339]
            )
            try setTotals(e.cartId, e.totals, at, session)
        case OrderCreated.typeName, OrderStatusUpdated.typeName, OrderCancelled.typeName, OrderFulfilled.typeName,
            PaymentProcessed.typeName, PaymentFailed.typeName, RefundInitiated.typeName, RefundCompleted.typeName,
            ShipmentCreated.typeName, CarrierAssigned.typeName, ShipmentStatusUpdated.typeName, DeliveryCompleted.typeName:
            try OrderProjection.apply(event, session)
        case CommandRejected.typeName:
            guard recordOutcome else { return }
            let e = try CommandRejected.decode(bytes)
            try session.query(
                """
                INSERT INTO command_outcomes (command_id, status, event_type, aggregate_id, reason, field, decided_at)
                VALUES ($1, 'rejected', $2, $3, $4, $5, $6) ON CONFLICT (command_id) DO NOTHING
                """,
                [e.commandId, event.type, e.aggregateId, e.reason, e.field, at]
            )
            return
        default:
            break
        }
        // The chain a command starts carries its id as correlation id: its first event is its outcome.
        if recordOutcome, let command = event.correlationID {
            try session.query(
                """
                INSERT INTO command_outcomes (command_id, status, event_type, aggregate_id, decided_at)
                VALUES ($1, 'applied', $2, $3, $4)
                ON CONFLICT (command_id) DO UPDATE
                SET status = 'applied', event_type = $2, aggregate_id = $3, reason = NULL, field = NULL, decided_at = $4
                WHERE command_outcomes.status = 'rejected' AND command_outcomes.reason LIKE $5
                """,
                [command, event.type, event.key, at, CommandRejected.deadLetteredPattern]
            )
        }
    }

    private static func setTotals(_ cartId: String, _ totals: CartTotals, _ at: String, _ session: PostgresSession) throws {
        try session.query(
            "UPDATE carts SET subtotal_minor = $2, discount_minor = $3, total_minor = $4, updated_at = $5 WHERE cart_id = $1",
            [cartId, String(totals.subtotal.amountMinor), String(totals.discount.amountMinor), String(totals.total.amountMinor), at]
        )
    }
}

extension EventProjection {
    /// The events the carts table is made of.
    public static let cartEvents = [
        CartCreated.typeName, ItemAdded.typeName, ItemRemoved.typeName, QuantityUpdated.typeName, CouponApplied.typeName, CartRevised.typeName,
        CartCheckedOut.typeName,
    ]
}

struct CartItem: Codable {
    var sku: String
    var name: String
    var quantity: Int
    var unitPriceMinor: Int
}
