import Commerce
import Contracts
import Testing

@Suite struct PaymentLedgerTests {
    func captured(_ amount: Int) throws -> PaymentLedger {
        var ledger = PaymentLedger(authorized: Money(amount, "VND"))
        try ledger.capture()
        return ledger
    }

    @Test func partialThenFullRefund() throws {
        var ledger = try captured(1_000)
        #expect(try ledger.refund("r1", Money(400, "VND")))
        #expect(ledger.status == .partiallyRefunded)
        #expect(try ledger.refund("r2", Money(600, "VND")))
        #expect(ledger.status == .refunded && ledger.refunded == Money(1_000, "VND"))
    }

    @Test(arguments: [
        (Money(1_001, "VND"), PaymentLedger.Refusal.exceedsCaptured(remaining: Money(1_000, "VND"))),
        (Money(10, "USD"), .currencyMismatch("VND")),
        (Money(0, "VND"), .nonPositive),
    ])
    func refundsNeverExceedTheCapture(amount: Money, refusal: PaymentLedger.Refusal) throws {
        var ledger = try captured(1_000)
        #expect(throws: refusal) { try ledger.refund("r", amount) }
        #expect(ledger.refunded == Money(0, "VND"))
    }

    @Test func aRepeatedRefundIsNotPaidTwice() throws {
        var ledger = try captured(1_000)
        #expect(try ledger.refund("r1", Money(700, "VND")))
        #expect(try !ledger.refund("r1", Money(700, "VND")))
        #expect(throws: PaymentLedger.Refusal.exceedsCaptured(remaining: Money(300, "VND"))) { try ledger.refund("r2", Money(700, "VND")) }
    }

    @Test func captureRules() throws {
        var ledger = PaymentLedger(authorized: Money(500, "VND"))
        #expect(throws: PaymentLedger.Refusal.notCaptured) { try ledger.refund("r", Money(1, "VND")) }
        #expect(throws: PaymentLedger.Refusal.exceedsAuthorization(Money(500, "VND"))) { try ledger.capture(Money(501, "VND")) }
        try ledger.capture(Money(300, "VND"))
        #expect(throws: PaymentLedger.Refusal.alreadyCaptured) { try ledger.capture() }
        #expect(paymentIdempotencyKey(paymentId: "pay-1", step: "capture") == paymentIdempotencyKey(paymentId: "pay-1", step: "capture"))
        #expect(paymentIdempotencyKey(paymentId: "pay-1", step: "capture") != paymentIdempotencyKey(paymentId: "pay-1", step: "refund-r1"))
    }
}

@Suite struct CarrierRulesTests {
    let rules = CarrierRules(rates: [
        CarrierRate(carrier: "vnpost", service: "standard", countries: ["VN"], maxWeightGrams: 30_000, basePrice: Money(20_000, "VND"), pricePerKilogram: Money(5_000, "VND"), deliveryDays: 4),
        CarrierRate(carrier: "ghn", service: "express", countries: ["VN"], maxWeightGrams: 5_000, basePrice: Money(25_000, "VND"), pricePerKilogram: Money(2_000, "VND"), deliveryDays: 2),
        CarrierRate(carrier: "dhl", service: "international", countries: ["VN", "SG", "DE"], maxWeightGrams: 70_000, basePrice: Money(300_000, "VND"), pricePerKilogram: Money(50_000, "VND"), deliveryDays: 6),
    ])

    @Test(arguments: [
        ("VN", 500, "vnpost"),  // 25 000 vs 27 000: cheapest
        ("VN", 3_000, "ghn"),  // 35 000 vs 31 000
        ("VN", 10_000, "vnpost"),  // ghn cannot carry it
        ("SG", 1_000, "dhl"),  // the only one that goes there
    ])
    func cheapestServingCarrierWins(country: String, weight: Int, carrier: String) {
        #expect(rules.choose(country: country, weightGrams: weight)?.carrier == carrier)
    }

    @Test func noCarrierForUnservedDestinationsOrWeights() {
        #expect(rules.choose(country: "US", weightGrams: 100) == nil)
        #expect(rules.choose(country: "VN", weightGrams: 80_000) == nil)
        #expect(rules.choose(country: "VN", weightGrams: 100, preferred: "dhl")?.carrier == "dhl")
    }

    @Test func estimates() {
        #expect(rules.estimate(country: "VN") == 2)
        #expect(rules.estimate(country: "VN", carrier: "vnpost") == 4)
        #expect(rules.estimate(country: "US") == nil)
        // 1 001 g is two started kilograms: vnpost 30 000, ghn 29 000.
        #expect(rules.choose(country: "VN", weightGrams: 1_001)?.price(weightGrams: 1_001) == Money(29_000, "VND"))
    }
}
