import Carts
import Commerce
import Contracts
import Foundation
import Kafka
import Streams
import Testing

@Suite struct CartRoleTests {
    let coupons = [
        Coupon(code: "TEN", discount: .percentage(basisPoints: 1_000)),
        Coupon(code: "ONCE", discount: .fixed(Money(5_000, "VND")), usageLimit: 1),
        Coupon(code: "BIG", discount: .percentage(basisPoints: 2_000), minimumSubtotal: Money(1_000_000, "VND")),
        Coupon(code: "OLD", discount: .percentage(basisPoints: 2_000), validUntil: Date(timeIntervalSince1970: 1_700_000_000)),
    ]
    let commands = "souk.cart.commands.v1"
    let productEvents = "souk.product.events.v1"

    func harness() async throws -> RoleHarness<CartRole> {
        let role = CartRole(coupons: coupons)
        var carts = RoleHarness(role, internalTopics: [role.topics.priceRequests, role.topics.priceReplies, role.topics.couponClaims, role.topics.couponDecisions])
        for (id, price) in [("p1", 119_000), ("p2", 33_333)] {
            let created = ProductCreated(productId: id, sku: "SKU-\(id)", name: "Tea \(id)", price: Money(price, "VND"), attributes: [:], createdAt: carts.now)
            #expect(try await carts.send(created, topic: productEvents).isEmpty)
        }
        _ = try await carts.send(CreateCart(cartId: "c1", customerId: "u1", currency: "VND"), topic: commands)
        return carts
    }

    func rejection(_ outputs: [KafkaProducerMessage]) throws -> CommandRejected {
        #expect(outputs.map(\.type) == [CommandRejected.typeName])
        return try #require(outputs.first).decoded(CommandRejected.self)
    }

    static func actor(_ value: String) -> KafkaHeaders { [KafkaHeader(key: SoukHeader.actor, string: value)] }

    @Test func aCustomerActsOnlyOnItsOwnCarts() async throws {
        var carts = try await harness()
        let intruder = Self.actor("customer:u2")
        let commandsOnC1: [any TopicMessage] = [
            AddItemToCart(cartId: "c1", productId: "p1", quantity: 1), UpdateQuantity(cartId: "c1", productId: "p1", quantity: 2),
            RemoveItemFromCart(cartId: "c1", productId: "p1"), ApplyCoupon(cartId: "c1", couponCode: "TEN"),
        ]
        for command in commandsOnC1 {
            let outputs = try await carts.send(topic: commands, key: command.key, type: type(of: command).typeName, value: command.encoded(), headers: intruder)
            #expect(try rejection(outputs).reason == "cart c1 belongs to another customer")
        }
        let foreign = try await carts.send(CreateCart(cartId: "c2", customerId: "u1", currency: "VND"), topic: commands, headers: intruder)
        #expect(try rejection(foreign).field == "/customerId")
        // The owner, and an operator's key, still act on the cart.
        let own = try await carts.send(AddItemToCart(cartId: "c1", productId: "p1", quantity: 1), topic: commands, headers: Self.actor("customer:u1"))
        #expect(own.map(\.type) == [ItemAdded.typeName])
        let byOperator = try await carts.send(UpdateQuantity(cartId: "c1", productId: "p1", quantity: 4), topic: commands, headers: Self.actor("system:ops"))
        #expect(byOperator.map(\.type) == [QuantityUpdated.typeName])
    }

    @Test func itemsTakeTheCatalogsCurrentPriceAndTotalsAreExact() async throws {
        var carts = try await harness()
        let first = try await carts.send(AddItemToCart(cartId: "c1", productId: "p1", quantity: 2), topic: commands)
        let added = try first[0].decoded(ItemAdded.self)
        #expect(added.unitPrice == Money(119_000, "VND") && added.sku == "SKU-p1" && added.quantity == 2)
        #expect(added.totals.subtotal == Money(238_000, "VND"))
        _ = try await carts.send(PriceChanged(productId: "p2", sku: "SKU-p2", oldPrice: Money(33_333, "VND"), newPrice: Money(30_000, "VND"), changedAt: carts.now), topic: productEvents)
        let second = try await carts.send(AddItemToCart(cartId: "c1", productId: "p2", quantity: 3), topic: commands)
        #expect(try second[0].decoded(ItemAdded.self).totals == CartTotals(subtotal: Money(328_000, "VND"), discount: Money(0, "VND"), total: Money(328_000, "VND")))
    }

    @Test func unknownAndDeletedProductsCannotBeAdded() async throws {
        var carts = try await harness()
        #expect(try rejection(try await carts.send(AddItemToCart(cartId: "c1", productId: "nope", quantity: 1), topic: commands)).reason == "product nope is unknown or no longer sold")
        _ = try await carts.send(ProductDeleted(productId: "p1", sku: "SKU-p1", deletedAt: carts.now), topic: productEvents)
        #expect(try rejection(try await carts.send(AddItemToCart(cartId: "c1", productId: "p1", quantity: 1), topic: commands)).field == "/productId")
        #expect(try rejection(try await carts.send(AddItemToCart(cartId: "ghost", productId: "p2", quantity: 1), topic: commands)).reason == "unknown cart ghost")
    }

    @Test func quantitiesAndRemovals() async throws {
        var carts = try await harness()
        _ = try await carts.send(AddItemToCart(cartId: "c1", productId: "p1", quantity: 1), topic: commands)
        let updated = try await carts.send(UpdateQuantity(cartId: "c1", productId: "p1", quantity: 3), topic: commands)
        #expect(try updated[0].decoded(QuantityUpdated.self).totals.total == Money(357_000, "VND"))
        let zero = try await carts.send(UpdateQuantity(cartId: "c1", productId: "p1", quantity: 0), topic: commands)
        #expect(zero.map(\.type) == [ItemRemoved.typeName])
        #expect(try rejection(try await carts.send(RemoveItemFromCart(cartId: "c1", productId: "p1"), topic: commands)).reason == "product p1 is not in the cart")
    }

    @Test(arguments: [
        ("TEN", 23_800, nil),
        ("BIG", 0, "coupon needs a subtotal of at least 1000000 VND"),
        ("OLD", 0, "coupon expired at 2023-11-14T22:13:20Z"),
        ("NOPE", 0, "unknown coupon NOPE"),
    ] as [(String, Int, String?)])
    func coupons(code: String, discount: Int, refusal: String?) async throws {
        var carts = try await harness()
        _ = try await carts.send(AddItemToCart(cartId: "c1", productId: "p1", quantity: 2), topic: commands)
        let outputs = try await carts.send(ApplyCoupon(cartId: "c1", couponCode: code), topic: commands)
        if let refusal {
            #expect(try rejection(outputs).reason == refusal)
        } else {
            let applied = try outputs[0].decoded(CouponApplied.self)
            #expect(applied.discount == Money(discount, "VND"))
            #expect(applied.totals.total == Money(238_000 - discount, "VND"))
        }
    }

    /// Applying a coupon only checks it: its uses are counted by checkouts (`SagaFlowTests`), so two
    /// carts may both show a coupon that has one use left.
    @Test func applyingACouponChecksItWithoutUsingIt() async throws {
        var carts = try await harness()
        _ = try await carts.send(CreateCart(cartId: "c2", customerId: "u2", currency: "VND"), topic: commands)
        for cart in ["c1", "c2"] { _ = try await carts.send(AddItemToCart(cartId: cart, productId: "p2", quantity: 1), topic: commands) }
        #expect(try await carts.send(ApplyCoupon(cartId: "c1", couponCode: "ONCE"), topic: commands).map(\.type) == [CouponApplied.typeName])
        #expect(try await carts.send(ApplyCoupon(cartId: "c2", couponCode: "ONCE"), topic: commands).map(\.type) == [CouponApplied.typeName])
        #expect(carts.store.state(partition: 0, key: "coupon:ONCE")?.couponUses == nil)
        #expect(try rejection(try await carts.send(ApplyCoupon(cartId: "c1", couponCode: "TEN"), topic: commands)).reason == "coupon ONCE is already applied")
    }

    @Test func applyingACouponIsOneDecisionAtATime() async throws {
        let role = CartRole(coupons: [Coupon(code: "MINE", discount: .fixed(Money(1_000, "VND")), usageLimit: 3, perCustomerLimit: 1)])
        // Claims stay out until the test delivers them: three applies race as they would on the broker.
        var carts = RoleHarness(role, internalTopics: [role.topics.priceRequests, role.topics.priceReplies])
        let created = ProductCreated(productId: "p1", sku: "SKU-p1", name: "Tea", price: Money(119_000, "VND"), attributes: [:], createdAt: carts.now)
        _ = try await carts.send(created, topic: productEvents)
        for cart in ["c1", "c2"] {
            _ = try await carts.send(CreateCart(cartId: cart, customerId: "u1", currency: "VND"), topic: commands)
            _ = try await carts.send(AddItemToCart(cartId: cart, productId: "p1", quantity: 1), topic: commands)
        }
        var claims: [KafkaProducerMessage] = []
        for _ in 0..<3 { claims += try await carts.send(ApplyCoupon(cartId: "c1", couponCode: "MINE"), topic: commands) }
        #expect(claims.filter { $0.topic == role.topics.couponClaims }.count == 1)
        #expect(claims.filter { $0.type == CommandRejected.typeName }.count == 2)
        claims += try await carts.send(ApplyCoupon(cartId: "c2", couponCode: "MINE"), topic: commands)

        var decisions: [KafkaProducerMessage] = []
        for claim in claims where claim.topic == role.topics.couponClaims {
            decisions += try await carts.send(topic: claim.topic, key: "MINE", type: claim.type!, value: claim.value!)
        }
        var answers: [KafkaProducerMessage] = []
        for decision in decisions where decision.topic == role.topics.couponDecisions {
            answers += try await carts.send(topic: decision.topic, key: String(decoding: decision.key!, as: UTF8.self), type: decision.type!, value: decision.value!)
        }
        // Both carts of u1 show it: its per-customer limit holds when a checkout uses it.
        #expect(answers.map(\.type) == [CouponApplied.typeName, CouponApplied.typeName])
    }

    /// The outside probe's request: a product at 10^13 VND, 1,000 of it, then WELCOME10. It once made
    /// the cart role trap on an overflow, and every restart replayed it.
    @Test func aCartThatWouldOverflowIsRefusedWithAReason() async throws {
        let role = CartRole(coupons: [Coupon(code: "WELCOME10", discount: .percentage(basisPoints: 1_000))])
        var carts = RoleHarness(role, internalTopics: [role.topics.priceRequests, role.topics.priceReplies, role.topics.couponClaims, role.topics.couponDecisions])
        let created = ProductCreated(productId: "gold", sku: "SKU-gold", name: "Gold tea", price: Money(10_000_000_000_000, "VND"), attributes: [:], createdAt: carts.now)
        _ = try await carts.send(created, topic: productEvents)
        _ = try await carts.send(CreateCart(cartId: "c1", customerId: "u1", currency: "VND"), topic: commands)
        for _ in 0..<99 { _ = try await carts.send(AddItemToCart(cartId: "c1", productId: "gold", quantity: 1), topic: commands) }
        let refused = try rejection(try await carts.send(AddItemToCart(cartId: "c1", productId: "gold", quantity: 1_000), topic: commands))
        #expect(refused.reason.hasPrefix("the cart's total would be out of range"), "\(refused.reason)")
        #expect(carts.store.state(partition: 0, key: "cart:c1")?.cart?.lines.first?.quantity == 99)
        // The coupon on what the cart holds (99 × 10^13 = 9.9 × 10^14) takes exactly 10 %.
        let applied = try await carts.send(ApplyCoupon(cartId: "c1", couponCode: "WELCOME10"), topic: commands)
        #expect(try applied.first { $0.type == CouponApplied.typeName }?.decoded(CouponApplied.self).discount == Money(99_000_000_000_000, "VND"))
    }

    @Test func otherCatalogEventsAreIgnored() async throws {
        var carts = try await harness()
        let rejected = CommandRejected(commandId: "x", commandType: "t", aggregateId: "p1", reason: "r")
        #expect(try await carts.send(rejected, topic: productEvents).isEmpty)
    }
}
