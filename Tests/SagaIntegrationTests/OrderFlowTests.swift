import App
import Contracts
import Foundation
import Kafka
import Projections
import Testing
import TestSupport

/// The order saga end to end on the real broker: every flow asserts the order's exact event sequence,
/// the stock it leaves, and the read models the projector builds.
@Suite(.serialized) struct OrderFlowTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func happyPathDeclinesTimeoutsOutOfStockAndCancellations() async throws {
        let rig = try await SagaRig(stack: stack, reservationTTL: 120, deadlines: .init(reservation: 20, payment: 4, shipment: 30, delivery: 600))
        defer { rig.stop() }
        let id = { (name: String) in "\(rig.run)-\(name)" }
        for (sku, quantity) in [("H1", 10), ("H2", 5), ("X1", 1), ("D1", 5), ("T1", 5), ("C1", 5), ("S1", 5)] {
            try await rig.stock(id(sku), quantity)
        }
        try await eventually("stock is set") { try rig.level(id("S1")) == [5, 0, 0] }

        try await rig.order(id("happy"), [(id("H1"), 2), (id("H2"), 1)])
        try await rig.order(id("short"), [(id("X1"), 2)])
        try await rig.order(id("declined"), [(id("D1"), 1)], token: "tok_decline_visa")
        try await rig.order(id("slow"), [(id("T1"), 1)], token: "tok_timeout")
        try await rig.order(id("paid"), [(id("C1"), 3)])
        try await rig.order(id("shipped"), [(id("S1"), 1)])

        // Happy path: the carrier reports, the order is fulfilled.
        let shipment = "ship-\(id("happy"))"
        try await eventually("a carrier is assigned", timeout: .seconds(90)) { rig.tap.types(key: shipment, topic: rig.shipping.events).contains("CarrierAssigned") }
        for status in ["picked_up", "in_transit", "delivered"] { try await rig.carrier(shipment, status) }
        #expect(try await rig.ended(id("happy")) == ["OrderCreated", "OrderStatusUpdated(awaiting_payment)", "OrderStatusUpdated(shipping)", "OrderFulfilled"])
        #expect(rig.tap.types(key: shipment, topic: rig.shipping.events) == [
            "ShipmentCreated", "CarrierAssigned", "ShipmentStatusUpdated", "ShipmentStatusUpdated", "ShipmentStatusUpdated", "DeliveryCompleted",
        ])

        // What `souk saga` shows for it: the steps in order, then the end.
        var sagaTopics = SagaTimeline.Topics()
        sagaTopics.orderCommands = rig.orders.commands
        sagaTopics.orderEvents = rig.orders.events
        sagaTopics.stockReplies = rig.orders.stockReplies
        sagaTopics.cartReplies = rig.orders.cartReplies
        sagaTopics.customerReplies = rig.orders.customerReplies
        sagaTopics.deadlines = rig.orders.deadlines
        sagaTopics.legacyReplies = nil
        sagaTopics.paymentCommands = rig.payments.commands
        sagaTopics.paymentEvents = rig.payments.events
        sagaTopics.shippingCommands = rig.shipping.commands
        sagaTopics.shippingEvents = rig.shipping.events
        sagaTopics.reservations = rig.inventory.reservations
        sagaTopics.timers = rig.timers
        sagaTopics.sagaChangelog = "souk.\(rig.run)-saga.changelog.v1"
        var timeline = try await SagaTimeline(topics: sagaTopics).build(orderId: id("happy"), bootstrapServers: stack.bootstrapServers, logger: stack.logger)
        // The status comes from the saga's changelog, the answers from the repliers' topics: each is read
        // up to its own last stable offset, so the end can show before the last answer does.
        try await eventually("the saga's record shows the end and every answer") {
            timeline = try await SagaTimeline(topics: sagaTopics).build(orderId: id("happy"), bootstrapServers: stack.bootstrapServers, logger: stack.logger)
            return timeline.status == "fulfilled" && timeline.steps.filter { $0.kind == .answer }.count >= 6
        }
        let names = timeline.steps.map(\.name)
        let milestones = ["CreateOrder", "ProductQuote", "OrderCreated", "ProcessPayment", "PaymentProcessed", "CreateShipment", "ShipmentCreated", "DeliveryCompleted", "OrderFulfilled"]
        #expect(milestones.compactMap { names.firstIndex(of: $0) } == milestones.compactMap { names.firstIndex(of: $0) }.sorted() && milestones.allSatisfy(names.contains))
        #expect(
            timeline.steps.filter { $0.kind == .answer }.count == 6, "two prices, two reservations and two confirmations: \(timeline.steps.map(\.name))"
        )
        #expect(timeline.waitingFor == nil && SagaTimeline.render(timeline, colour: false).hasSuffix("status: fulfilled"))

        // Cancel after payment, and after the shipment was created: refund, shipment cancelled, stock back.
        // Once the saga has heard of the capture (the payment topic shows it before the saga's copy
        // reaches it; a cancel in between ends the order before shipping, with no shipment to cancel).
        try await eventually("the saga has the payment", timeout: .seconds(90)) { rig.orderEvents(id("paid")).contains("OrderStatusUpdated(shipping)") }
        try await rig.send(CancelOrder(orderId: id("paid"), reason: "changed my mind"), to: rig.orders.commands)
        try await eventually("the shipment exists", timeout: .seconds(90)) { rig.tap.types(key: "ship-\(id("shipped"))", topic: rig.shipping.events).contains("ShipmentCreated") }
        try await rig.send(CancelOrder(orderId: id("shipped"), reason: "found it cheaper"), to: rig.orders.commands)

        let cancelled = ["OrderCreated", "OrderStatusUpdated(awaiting_payment)", "OrderStatusUpdated(shipping)", "OrderCancelled"]
        let failedAtPayment = ["OrderCreated", "OrderStatusUpdated(awaiting_payment)", "OrderStatusUpdated(failed)"]
        #expect(try await rig.ended(id("short")) == ["OrderCreated", "OrderStatusUpdated(failed)"])
        #expect(try await rig.ended(id("declined")) == failedAtPayment)
        #expect(try await rig.ended(id("slow")) == failedAtPayment)
        #expect(try await rig.ended(id("paid")) == cancelled)
        #expect(try await rig.ended(id("shipped")) == cancelled)
        for order in ["paid", "shipped"] {
            try await eventually("\(order) is refunded") {
                rig.tap.types(key: "pay-\(id(order))", topic: rig.payments.events) == ["PaymentProcessed", "RefundInitiated", "RefundCompleted"]
            }
            try await eventually("\(order)'s shipment is cancelled") {
                rig.tap.records(key: "ship-\(id(order))", topic: rig.shipping.events).contains {
                    $0.shortType == "ShipmentStatusUpdated" && (try? ShipmentStatusUpdated.decode($0.value ?? []))?.status == "cancelled"
                }
            }
        }

        // Stock: sold only for the fulfilled order, everything else back where it was.
        let expected: [(String, [Int])] = [("H1", [8, 0, 2]), ("H2", [4, 0, 1]), ("X1", [1, 0, 0]), ("D1", [5, 0, 0]), ("T1", [5, 0, 0]), ("C1", [5, 0, 0]), ("S1", [5, 0, 0])]
        for (sku, level) in expected {
            try await eventually("\(sku) is at \(level)") { try rig.level(id(sku)) == level }
        }

        // Read models.
        let queries = rig.queries
        try await eventually("the order read model caught up", timeout: .seconds(60)) { try await queries.order(GetOrder(orderId: id("happy")))?.status == "fulfilled" }
        try await eventually("the payment read model caught up", timeout: .seconds(60)) {
            try await queries.paymentStatus(GetPaymentStatus(paymentId: "pay-\(id("shipped"))"))?.status == "refunded"
        }
        try await eventually("the failed order's read model caught up", timeout: .seconds(60)) { try await queries.orderStatus(GetOrderStatus(orderId: id("slow")))?.status == "failed" }
        try await eventually("the shipment read model caught up", timeout: .seconds(60)) {
            try await queries.shipmentStatus(GetShipmentStatus(orderId: id("shipped")))?.status == "cancelled"
        }
        let happy = try #require(try await queries.order(GetOrder(orderId: id("happy"))))
        #expect(happy.total == Money(300_000, "VND") && happy.shipmentId == shipment && happy.lines.count == 2)
        let tracking = try #require(try await queries.tracking(TrackShipment(shipmentId: shipment)))
        #expect(tracking.events.map(\.status) == ["created", "assigned", "picked_up", "in_transit", "delivered"])
        let delivered = try #require(try await queries.shipmentStatus(GetShipmentStatus(orderId: id("happy"))))
        #expect(delivered.status == "delivered" && delivered.carrier == "ghn" && delivered.deliveredAt != nil)
        #expect(try await queries.orderStatus(GetOrderStatus(orderId: id("slow")))?.reason == "payment timed out")
        #expect(try await queries.orderStatus(GetOrderStatus(orderId: id("short")))?.reason == "\(id("X1")): out of stock: 2 requested, 1 available")
        #expect(try await queries.paymentStatus(GetPaymentStatus(paymentId: "pay-\(id("declined"))"))?.reason == "declined: card declined")
        let refunded = try #require(try await queries.paymentStatus(GetPaymentStatus(paymentId: "pay-\(id("paid"))")))
        #expect(refunded.captured == Money(300_000, "VND") && refunded.refunded == Money(300_000, "VND") && refunded.refunds.map(\.status) == ["completed"])
        #expect(try await queries.refundStatus(GetRefundStatus(paymentId: "pay-\(id("paid"))", refundId: "refund-\(id("paid"))"))?.amount == Money(300_000, "VND"))
        let history = try #require(try await queries.orderHistory(GetOrderHistory(orderId: id("happy"))))
        #expect(history.steps.first?.event == "OrderCreated" && history.steps.last?.event == "OrderFulfilled")
        #expect(history.steps.map(\.event).contains("PaymentProcessed") && history.steps.map(\.event).contains("DeliveryCompleted"))
        let mine = try await queries.customerOrders(GetCustomerOrders(customerId: "\(rig.run)-customer", limit: 4))
        #expect(mine.items.count == 4 && mine.nextCursor != nil)
        let rest = try await queries.customerOrders(GetCustomerOrders(customerId: "\(rig.run)-customer", cursor: mine.nextCursor, limit: 4))
        #expect(Set((mine.items + rest.items).map(\.orderId)).count == 6)
        let payments = try await queries.paymentHistory(GetPaymentHistory(customerId: "\(rig.run)-customer"))
        // Every order that reached payment, except the one whose provider never answered.
        #expect(Set(payments.items.map(\.paymentId)) == Set(["happy", "declined", "paid", "shipped"].map { "pay-\(id($0))" }))
    }

    @Test func aReservationThatIsNotConfirmedInTimeExpiresAndFailsTheOrder() async throws {
        let rig = try await SagaRig(stack: stack, reservationTTL: 2, deadlines: .init(reservation: 20, payment: 60, shipment: 30, delivery: 600))
        defer { rig.stop() }
        let sku = "\(rig.run)-E1", order = "\(rig.run)-expiring"
        try await rig.stock(sku, 5)
        try await rig.order(order, [(sku, 2)], token: "tok_timeout")
        try await eventually("the stock is reserved") { try rig.level(sku) == [3, 2, 0] }
        #expect(try await rig.ended(order) == ["OrderCreated", "OrderStatusUpdated(awaiting_payment)", "OrderStatusUpdated(failed)"])
        try await eventually("the stock is back") { try rig.level(sku) == [5, 0, 0] }
        try await eventually("the read model shows why") {
            try await rig.queries.orderStatus(GetOrderStatus(orderId: order))?.reason == "reservation of \(sku) expired"
        }
    }
}
