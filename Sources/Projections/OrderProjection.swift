import Contracts
import Foundation
import Postgres
import Timestamps

/// The order, payment and shipping read models, applied by `EventProjection` once per event.
enum OrderProjection {
    static func apply(_ event: ProjectedEvent, _ session: PostgresSession) throws {
        let bytes = event.payload
        switch event.type {
        case OrderCreated.typeName:
            let e = try OrderCreated.decode(bytes)
            try session.query(
                """
                INSERT INTO orders (order_id, customer_id, status, total_minor, currency, lines, shipping_address, created_at, updated_at)
                VALUES ($1, $2, 'reserving', $3, $4, $5::jsonb, $6::jsonb, $7, $7) ON CONFLICT (order_id) DO NOTHING
                """,
                [
                    e.orderId, e.customerId, String(e.total.amountMinor), e.total.currency, try EventProjection.json(e.lines),
                    try EventProjection.json(e.shippingAddress), e.createdAt.rfc3339,
                ]
            )
        case OrderStatusUpdated.typeName:
            let e = try OrderStatusUpdated.decode(bytes)
            try session.query("UPDATE orders SET status = $2, reason = $3, updated_at = $4 WHERE order_id = $1", [e.orderId, e.status, e.reason, e.updatedAt.rfc3339])
        case OrderCancelled.typeName:
            let e = try OrderCancelled.decode(bytes)
            try session.query("UPDATE orders SET status = 'cancelled', reason = $2, updated_at = $3 WHERE order_id = $1", [e.orderId, e.reason, e.cancelledAt.rfc3339])
        case OrderFulfilled.typeName:
            let e = try OrderFulfilled.decode(bytes)
            try session.query(
                "UPDATE orders SET status = 'fulfilled', shipment_id = $2, updated_at = $3 WHERE order_id = $1", [e.orderId, e.shipmentId, e.fulfilledAt.rfc3339]
            )

        case PaymentProcessed.typeName:
            let e = try PaymentProcessed.decode(bytes)
            let captured = e.isCaptured ? String(e.amount.amountMinor) : "0"
            try session.query(
                """
                INSERT INTO payments (payment_id, order_id, status, amount_minor, currency, captured_minor, provider, provider_reference, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (payment_id) DO UPDATE SET status = CASE WHEN payments.refunded_minor > 0 THEN payments.status ELSE $3 END,
                    amount_minor = coalesce(payments.amount_minor, $4), currency = $5, captured_minor = greatest(payments.captured_minor, $6::bigint),
                    provider = $7, provider_reference = $8, updated_at = $9
                """,
                [
                    e.paymentId, e.orderId, e.isCaptured ? "captured" : "authorized", String(e.amount.amountMinor), e.amount.currency, captured, e.provider,
                    e.providerReference, e.processedAt.rfc3339,
                ]
            )
        case PaymentFailed.typeName:
            let e = try PaymentFailed.decode(bytes)
            try session.query(
                """
                INSERT INTO payments (payment_id, order_id, status, reason, updated_at) VALUES ($1, $2, 'failed', $3, $4)
                ON CONFLICT (payment_id) DO UPDATE SET status = 'failed', reason = $3, updated_at = $4
                """,
                [e.paymentId, e.orderId, e.reason, e.failedAt.rfc3339]
            )
        case RefundInitiated.typeName:
            let e = try RefundInitiated.decode(bytes)
            try session.query(
                """
                INSERT INTO refunds (payment_id, refund_id, order_id, status, amount_minor, currency, initiated_at) VALUES ($1, $2, $3, 'initiated', $4, $5, $6)
                ON CONFLICT (payment_id, refund_id) DO UPDATE SET initiated_at = $6
                """,
                [e.paymentId, e.refundId, e.orderId, String(e.amount.amountMinor), e.amount.currency, e.initiatedAt.rfc3339]
            )
        case RefundCompleted.typeName:
            let e = try RefundCompleted.decode(bytes)
            try session.query(
                """
                INSERT INTO refunds (payment_id, refund_id, order_id, status, amount_minor, currency, provider_reference, completed_at)
                VALUES ($1, $2, $3, 'completed', $4, $5, $6, $7)
                ON CONFLICT (payment_id, refund_id) DO UPDATE SET status = 'completed', provider_reference = $6, completed_at = $7
                """,
                [e.paymentId, e.refundId, e.orderId, String(e.amount.amountMinor), e.amount.currency, e.providerReference, e.completedAt.rfc3339]
            )
            try session.query(
                """
                UPDATE payments SET refunded_minor = refunded_minor + $2,
                    status = CASE WHEN refunded_minor + $2 >= captured_minor THEN 'refunded' ELSE 'partially_refunded' END, updated_at = $3
                WHERE payment_id = $1
                """,
                [e.paymentId, String(e.amount.amountMinor), e.completedAt.rfc3339]
            )

        case ShipmentCreated.typeName:
            let e = try ShipmentCreated.decode(bytes)
            try session.query(
                """
                INSERT INTO shipments (shipment_id, order_id, status, address, weight_grams, created_at, updated_at) VALUES ($1, $2, 'created', $3::jsonb, $4, $5, $5)
                ON CONFLICT (shipment_id) DO NOTHING
                """,
                [e.shipmentId, e.orderId, try EventProjection.json(e.address), String(e.weightGrams), e.createdAt.rfc3339]
            )
            try track(event, e.shipmentId, "created", nil, nil, e.createdAt, session)
        case CarrierAssigned.typeName:
            let e = try CarrierAssigned.decode(bytes)
            try session.query(
                """
                UPDATE shipments SET status = 'assigned', carrier = $2, service = $3, cost_minor = $4, currency = $5, estimated_delivery_days = $6,
                    updated_at = $7 WHERE shipment_id = $1
                """,
                [e.shipmentId, e.carrier, e.service, String(e.cost.amountMinor), e.cost.currency, String(e.estimatedDeliveryDays), e.assignedAt.rfc3339]
            )
            try track(event, e.shipmentId, "assigned", nil, "\(e.carrier) \(e.service)", e.assignedAt, session)
        case ShipmentStatusUpdated.typeName:
            let e = try ShipmentStatusUpdated.decode(bytes)
            try session.query("UPDATE shipments SET status = $2, updated_at = $3 WHERE shipment_id = $1", [e.shipmentId, e.status, e.updatedAt.rfc3339])
            try track(event, e.shipmentId, e.status, e.location, e.note, e.updatedAt, session)
        case DeliveryCompleted.typeName:
            let e = try DeliveryCompleted.decode(bytes)
            try session.query("UPDATE shipments SET delivered_at = $2 WHERE shipment_id = $1", [e.shipmentId, e.deliveredAt.rfc3339])
        default:
            break
        }
    }

    private static func track(_ event: ProjectedEvent, _ shipmentId: String, _ status: String, _ location: String?, _ note: String?, _ at: Date, _ session: PostgresSession) throws {
        try session.query(
            "INSERT INTO shipment_tracking (event_id, shipment_id, status, location, note, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            [event.id, shipmentId, status, location, note, at.rfc3339]
        )
    }
}
