import Commerce
import Contracts
import Foundation
import Testing

let day: TimeInterval = 86_400
let now = Date(timeIntervalSince1970: 1_795_000_000)

@Suite struct MoneyTests {
    @Test(arguments: [
        (10_000, 1_000, 1_000),  // 10 %
        (999, 1_000, 100),  // 99.9 → 100 (half up)
        (994, 1_000, 99),  // 99.4 → 99
        (12_345, 2_500, 3_086),  // 3 086.25 → 3 086
        (1, 5_000, 1),  // 0.5 → 1
        (0, 1_000, 0),
    ])
    func percentagesRoundHalfUpInMinorUnits(amount: Int, basisPoints: Int, expected: Int) throws {
        #expect(try Money(amount, "VND").percentage(basisPoints: basisPoints) == Money(expected, "VND"))
    }

    @Test func currenciesDoNotMix() {
        #expect(throws: MoneyError.currencyMismatch("VND", "USD")) { try Money(1, "VND").adding(Money(1, "USD")) }
        #expect(throws: MoneyError.overflow) { try Money(Int.max, "VND").times(2) }
        let floored = try? Money(5, "VND").subtractingFlooringAtZero(Money(9, "VND"))
        #expect(floored == Money(0, "VND"))
    }
}

@Suite struct CouponTests {
    let subtotal = Money(200_000, "VND")

    @Test(arguments: [
        (Coupon(code: "P10", discount: .percentage(basisPoints: 1_000)), 20_000),
        (Coupon(code: "P150", discount: .percentage(basisPoints: 15_000)), 200_000),  // capped at 100 %
        (Coupon(code: "F50K", discount: .fixed(Money(50_000, "VND"))), 50_000),
        (Coupon(code: "F1M", discount: .fixed(Money(1_000_000, "VND"))), 200_000),  // never above the subtotal
        (Coupon(code: "MIN", discount: .percentage(basisPoints: 500), minimumSubtotal: Money(200_000, "VND")), 10_000),
        (Coupon(code: "WIN", discount: .percentage(basisPoints: 500), validFrom: now - day, validUntil: now + day), 10_000),
        (Coupon(code: "LIM", discount: .percentage(basisPoints: 500), usageLimit: 3), 10_000),
    ])
    func discounts(coupon: Coupon, expected: Int) throws {
        #expect(try coupon.discount(on: subtotal, at: now, timesUsed: 2) == Money(expected, "VND"))
    }

    @Test(arguments: [
        (Coupon(code: "MIN", discount: .percentage(basisPoints: 500), minimumSubtotal: Money(200_001, "VND")), Coupon.Refusal.belowMinimum(Money(200_001, "VND"))),
        (Coupon(code: "SOON", discount: .percentage(basisPoints: 500), validFrom: now + 1), .notYetValid(now + 1)),
        (Coupon(code: "OLD", discount: .percentage(basisPoints: 500), validUntil: now), .expired(now)),
        (Coupon(code: "LIM", discount: .percentage(basisPoints: 500), usageLimit: 2), .usedUp(2)),
        (Coupon(code: "USD", discount: .fixed(Money(5, "USD"))), .wrongCurrency("USD")),
    ])
    func refusals(coupon: Coupon, refusal: Coupon.Refusal) {
        #expect(throws: refusal) { try coupon.discount(on: subtotal, at: now, timesUsed: 2) }
    }
}

@Suite struct CartTests {
    func line(_ id: String, _ quantity: Int, _ price: Int) -> Cart.Line {
        Cart.Line(productId: id, sku: "SKU-\(id)", name: id, quantity: quantity, unitPrice: Money(price, "VND"))
    }

    @Test func totalsAreExactInMinorUnits() throws {
        var cart = Cart(cartId: "c", customerId: "u", currency: "VND")
        try cart.add(line("a", 2, 119_000))
        try cart.add(line("b", 3, 33_333))
        cart.coupon = Coupon(code: "P10", discount: .percentage(basisPoints: 1_000))
        let totals = try cart.totals(at: now)
        #expect(totals.subtotal == Money(337_999, "VND"))
        #expect(totals.discount == Money(33_800, "VND"))  // 33 799.9 → 33 800
        #expect(totals.total == Money(304_199, "VND"))
    }

    @Test func addingAgainKeepsTheFirstPriceAndAddsQuantity() throws {
        var cart = Cart(cartId: "c", customerId: "u", currency: "VND")
        try cart.add(line("a", 1, 100))
        try cart.add(line("a", 2, 150))
        #expect(cart.lines == [line("a", 3, 100)])
        let removed = try cart.setQuantity(0, of: "a")
        #expect(removed)
        #expect(cart.lines.isEmpty)
        let missing = try cart.setQuantity(1, of: "missing")
        #expect(!missing)
    }

    @Test func aCouponThatNoLongerAppliesTakesNothingOff() throws {
        var cart = Cart(cartId: "c", customerId: "u", currency: "VND", lines: [line("a", 1, 50_000)])
        cart.coupon = Coupon(code: "MIN", discount: .fixed(Money(10_000, "VND")), minimumSubtotal: Money(100_000, "VND"))
        #expect(try cart.totals(at: now).discount == Money(0, "VND"))
        try cart.add(line("a", 1, 50_000))
        #expect(try cart.totals(at: now).total == Money(90_000, "VND"))
    }
}

@Suite struct CardNumberDetectorTests {
    @Test(arguments: [
        ("4242424242424242", true),
        ("card 4242 4242 4242 4242 exp 08/29", true),
        ("4242-4242-4242-4242", true),
        ("5555555555554444", true),
        ("378282246310005", true),  // 15-digit Amex
        ("4242424242424241", false),  // fails Luhn
        ("pm_tok_visa_4242", false),
        ("4242", false),
        ("+84 24 1234 5678", false),
        ("order 1234567890123", false),  // 13 digits, fails Luhn
        ("3782 822463 10005", true),  // Amex grouping 4-6-5
        ("4242 4242 4242 4242 ", true),
        ("id-42424242-42424242@example.com", false),  // Luhn-valid digits, but an id's grouping, not a card's
        ("run-1111-2222333344445", false),
        ("", false),
    ])
    func findsCardNumbers(text: String, found: Bool) {
        #expect(CardNumberDetector.containsCardNumber(text) == found, "\(text)")
    }
}

@Suite struct AddressBookTests {
    func address(_ id: String, city: String = "Ha Noi") -> Address {
        Address(addressId: id, recipient: "Lan", line1: "1 Street", city: city, postalCode: "100000", country: "VN")
    }

    @Test(arguments: [
        // (upserts as (id, makeDefault), expected ids, expected default)
        ([("home", false)], ["home"], "home"),
        ([("home", false), ("work", false)], ["home", "work"], "home"),
        ([("home", false), ("work", true)], ["home", "work"], "work"),
        ([("home", false), ("work", true), ("home", false)], ["home", "work"], "work"),
        ([("home", true), ("home", true)], ["home"], "home"),
    ])
    func defaults(upserts: [(String, Bool)], ids: [String], defaultID: String) {
        var book = AddressBook()
        for (id, makeDefault) in upserts { book.upsert(address(id), makeDefault: makeDefault) }
        #expect(book.addresses.map(\.addressId) == ids)
        #expect(book.defaultAddressId == defaultID)
    }

    @Test func replacingKeepsOneEntryWithTheNewFields() {
        var book = AddressBook()
        book.upsert(address("home"), makeDefault: false)
        book.upsert(address("home", city: "Hue"), makeDefault: false)
        #expect(book.addresses.count == 1)
        #expect(book.defaultAddress?.city == "Hue")
    }
}
