import Commerce
import Contracts
import Foundation
import Testing

/// The domain with extreme and random values: every operation either succeeds within its bounds or
/// throws a domain error; none traps. A trap here would take this test process down, as it once took
/// every role down (a cart at 10^13 VND × 1,000 with a 10 % coupon).
@Suite struct ExtremeValueTests {
    static let edges = [
        Int.min, Int.min + 1, -Money.maxAmountMinor - 1, -1, 0, 1, 2, 999, 1_000, 9_999, 10_000, 10_001, 1_000_000_000_000,
        10_000_000_000_000, Money.maxAmountMinor, Money.maxAmountMinor + 1, Int.max / 10_000, Int.max / 2, Int.max - 1, Int.max,
    ]

    func value(_ random: inout SplitMix64) -> Int {
        switch Int.random(in: 0..<3, using: &random) {
        case 0: Self.edges.randomElement(using: &random)!
        case 1: Int.random(in: -20_000...20_000, using: &random)
        default: Int.random(in: Int.min...Int.max, using: &random)
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func moneyNeverTrapsAndPercentagesAreExact(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<20_000 {
            let a = Money(value(&random), "VND"), b = Money(value(&random), "VND"), n = value(&random)
            if let sum = try? a.adding(b) { #expect(abs(sum.amountMinor) <= Money.maxAmountMinor) }
            if let product = try? a.times(n) { #expect(Int128(product.amountMinor) == Int128(a.amountMinor) * Int128(n)) }
            _ = try? a.subtractingFlooringAtZero(b)
            if let share = try? a.percentage(basisPoints: n) {
                #expect(Int128(share.amountMinor) == (Int128(a.amountMinor) * Int128(n) + 5_000) / 10_000, "seed \(seed): \(a) × \(n) bp")
            }
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func cartsCouponsAndOrdersNeverTrap(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let coupons = [
            Coupon(code: "P10", discount: .percentage(basisPoints: 1_000)), Coupon(code: "ALL", discount: .percentage(basisPoints: Int.max)),
            Coupon(code: "FIX", discount: .fixed(Money(Int.max, "VND"))), Coupon(code: "MIN", discount: .percentage(basisPoints: 500), minimumSubtotal: Money(Int.min, "VND")),
        ]
        for round in 0..<2_000 {
            var cart = Cart(cartId: "c", customerId: "u", currency: "VND", coupon: coupons.randomElement(using: &random))
            for item in 0..<Int.random(in: 1...5, using: &random) {
                let line = Cart.Line(productId: "p\(item % 3)", sku: "s\(item % 3)", name: "n", quantity: value(&random), unitPrice: Money(value(&random), "VND"))
                if (try? cart.add(line)) != nil { #expect((1...Cart.maxQuantityPerLine).contains(cart.lines.first { $0.productId == line.productId }!.quantity)) }
                _ = try? cart.setQuantity(value(&random), of: "p\(Int.random(in: 0..<3, using: &random))")
            }
            if let totals = try? cart.totals(at: Date(timeIntervalSince1970: 1_800_000_000), couponUses: value(&random)) {
                #expect(totals.total.amountMinor >= 0 && totals.total.amountMinor <= Money.maxAmountMinor, "seed \(seed), round \(round)")
            }
            for coupon in coupons { _ = try? coupon.discount(on: Money(value(&random), "VND"), at: .now, timesUsed: value(&random)) }
            let lines = (0..<Int.random(in: 1...4, using: &random)).map { i in
                OrderLine(productId: "p\(i)", sku: "s\(i % 2)", quantity: value(&random), unitPrice: Money(value(&random), "VND"))
            }
            if let (saga, _) = try? OrderSaga.start(orderId: "o", lines: lines, at: .now) {
                #expect(abs(saga.total.amountMinor) <= Money.maxAmountMinor)
            }
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func stockLedgersAndCarriersNeverTrap(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            var stock = StockLevel()
            for step in 0..<8 {
                switch Int.random(in: 0..<6, using: &random) {
                case 0: try? stock.set(available: value(&random))
                case 1: try? stock.adjust(by: value(&random))
                case 2: try? stock.reserve("r\(step % 3)", orderId: "o", quantity: value(&random), expiresAt: .now)
                case 3: _ = try? stock.confirm("r\(step % 3)")
                case 4: try? stock.sell(value(&random))
                default: try? stock.returnSold(value(&random))
                }
                #expect(stock.available >= 0 && stock.reserved >= 0 && stock.sold >= 0)
            }
            var ledger = PaymentLedger(authorized: Money(value(&random), "VND"))
            try? ledger.capture(Int.random(in: 0..<2, using: &random) == 0 ? nil : Money(value(&random), "VND"))
            for refund in 0..<4 { _ = try? ledger.refund("rf-\(refund % 2)", Money(value(&random), "VND")) }
            #expect(ledger.refunded.amountMinor <= max(0, ledger.captured.amountMinor))
            let weight = value(&random)
            if let rate = CarrierRules.standard.choose(country: "VN", weightGrams: weight) { _ = rate.price(weightGrams: weight) }
        }
    }

    @Test func theProbesCartIsRefusedWithAReason() throws {
        var cart = Cart(cartId: "c", customerId: "u", currency: "VND", coupon: Coupon(code: "WELCOME10", discount: .percentage(basisPoints: 1_000)))
        let line = Cart.Line(productId: "p", sku: "s", name: "n", quantity: 1_000, unitPrice: Money(10_000_000_000_000, "VND"))
        #expect(throws: Cart.LimitError.amount(.overflow)) { try cart.add(line) }
        #expect(cart.lines.isEmpty)
        // The same product at a price that fits: the coupon takes its exact 10 %.
        try cart.add(Cart.Line(productId: "p", sku: "s", name: "n", quantity: 1_000, unitPrice: Money(1_000_000_000_000, "VND")))
        #expect(try cart.totals(at: .now).discount == Money(100_000_000_000_000, "VND"))
        #expect(throws: Cart.LimitError.quantity(10_001)) {
            try cart.add(Cart.Line(productId: "p", sku: "s", name: "n", quantity: 9_001, unitPrice: Money(1, "VND")))
        }
    }

    @Test func aRefundIdNamesItsAmount() throws {
        var ledger = PaymentLedger(authorized: Money(100_000, "VND"))
        try ledger.capture()
        #expect(try ledger.refund("rf-1", Money(60_000, "VND")))
        #expect(try !ledger.refund("rf-1", Money(60_000, "VND")))
        #expect(throws: PaymentLedger.Refusal.refundIdReused("rf-1", Money(60_000, "VND"))) { try ledger.refund("rf-1", Money(40_000, "VND")) }
        #expect(ledger.refunded == Money(60_000, "VND"))
    }
}
