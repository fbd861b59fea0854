import Commerce
import Contracts
import Foundation
import Testing
import TestSupport

/// Checkouts on the real broker, as upstream systems place them straight on the command topic: the
/// order charges exactly what the cart shows, a coupon's last use goes to one of two checkouts racing
/// for it, and a price that moved refuses the checkout until the cart shows it.
@Suite(.serialized) struct CheckoutTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func twoCheckoutsRaceForACouponsLastUseAndAMovedPriceIsShownFirst() async throws {
        let rig = try await SagaRig(
            stack: stack, reservationTTL: 120, deadlines: .init(reservation: 30, payment: 30, shipment: 30, delivery: 600), projector: false,
            coupons: [Coupon(code: "LAST", discount: .fixed(Money(30_000, "VND")), usageLimit: 1)]
        )
        defer { rig.stop() }
        let id = { (name: String) in "\(rig.run)-\(name)" }
        try await rig.stock(id("A"), 10)
        try await rig.stock(id("B"), 10)
        try await rig.cart(id("cart1"), [(id("A"), 1)], coupon: "LAST")
        try await rig.cart(id("cart2"), [(id("A"), 1)], coupon: "LAST")

        // Sent back to back, so both checkouts are usually out at once; whichever claims the coupon's use
        // first on its partition gets it, and the other is refused.
        try await rig.checkout(id("o1"), cart: id("cart1"))
        try await rig.checkout(id("o2"), cart: id("cart2"))
        let outcomes = [try await rig.outcome(id("o1")), try await rig.outcome(id("o2"))]
        let created = outcomes.compactMap(\.created)
        #expect(created.count == 1, "\(outcomes)")
        #expect(created.first?.total == Money(70_000, "VND") && created.first?.discount == Money(30_000, "VND") && created.first?.couponCode == "LAST")
        let refused = try #require(outcomes.compactMap(\.rejected).first)
        #expect(refused.reason.contains("coupon LAST no longer applies: coupon reached its usage limit of 1"), "\(refused.reason)")
        #expect(refused.field == "/cartId")

        // The winning cart is closed: a second checkout of it is refused.
        let winner = created.first?.cartId ?? ""
        try await rig.checkout(id("o3"), cart: winner)
        #expect(try await rig.outcome(id("o3")).rejected?.reason == "cart \(winner) was already checked out by order \(created.first?.orderId ?? "")")

        // A price that moved after the cart was filled: refused with the new price, which the next checkout charges.
        try await rig.cart(id("cart3"), [(id("B"), 2)])
        try await rig.setPrice(id("B"), from: 100_000, to: 120_000)
        try await rig.checkout(id("o4"), cart: id("cart3"))
        #expect(
            try await rig.outcome(id("o4")).rejected?.reason
                == "cart \(id("cart3")) changed since it was shown (the price of \(id("B")) changed from 100000 to 120000 VND); check out again to pay what it shows now"
        )
        try await eventually("the cart shows the new price") { rig.tap.types(key: id("cart3"), topic: rig.carts.events).contains("CartRevised") }
        try await rig.checkout(id("o5"), cart: id("cart3"))
        #expect(try await rig.outcome(id("o5")).created?.total == Money(240_000, "VND"))
        try await eventually("the stock shows both orders' reservations or sales") {
            try rig.level(id("B"))?.dropFirst().reduce(0, +) == 2 && rig.level(id("A"))?.dropFirst().reduce(0, +) == 1
        }
    }

    /// Straight on the command topic from a producer that names no principal: its price of 1 is
    /// ignored, the catalog's is charged, with its saved method; the parcel weighs what the products do.
    @Test func aCallersPriceIsIgnoredOnTheTopic() async throws {
        let rig = try await SagaRig(stack: stack, reservationTTL: 120, deadlines: .init(reservation: 30, payment: 30, shipment: 30, delivery: 600), projector: false)
        defer { rig.stop() }
        let id = { (name: String) in "\(rig.run)-\(name)" }
        let customer = "\(rig.run)-customer"
        try await rig.send(RegisterCustomer(customerId: customer, email: "\(rig.run)@example.com", name: "Mai"), to: rig.customers.commands)
        try await eventually("the customer is registered") { rig.tap.types(key: customer, topic: rig.customers.events).contains("CustomerRegistered") }
        try await rig.send(
            UpdateBillingInfo(customerId: customer, paymentMethodToken: "tok_saved", brand: "visa", last4: "4242", expiryMonth: 8, expiryYear: 2030),
            to: rig.customers.commands
        )
        try await eventually("the customer saved a payment method") { rig.tap.types(key: customer, topic: rig.customers.events).contains("BillingInfoUpdated") }
        try await rig.stock(id("P"), 10)
        try await rig.product(id("P"))
        let lines = [OrderItem(productId: "p-\(id("P"))", sku: id("P"), quantity: 3, unitPrice: Money(1, "VND"))]
        let order = CreateOrder(orderId: id("o1"), customerId: customer, lines: lines, shippingAddress: .example, paymentToken: "tok_saved")
        try await rig.send(order, to: rig.orders.commands, actor: nil)
        let created = try #require(try await rig.outcome(id("o1")).created)
        #expect(created.total == Money(300_000, "VND") && created.lines.map(\.priceSource) == [OrderLine.catalogPrice])
        try await eventually("the shipment is created") { rig.tap.types(key: "ship-\(id("o1"))", topic: rig.shipping.events).contains("ShipmentCreated") }
        let shipment = try #require(rig.tap.records(key: "ship-\(id("o1"))", topic: rig.shipping.events).first { $0.shortType == "ShipmentCreated" })
        #expect(try ShipmentCreated.decode(shipment.value ?? []).weightGrams == 3 * 500)
        // Another customer's token, from the same producer: refused, nothing reserved.
        let foreign = CreateOrder(orderId: id("o2"), customerId: customer, lines: lines, shippingAddress: .example, paymentToken: "tok_someone_elses")
        try await rig.send(foreign, to: rig.orders.commands, actor: nil)
        #expect(try await rig.outcome(id("o2")).rejected?.field == "/paymentToken")
    }
}
