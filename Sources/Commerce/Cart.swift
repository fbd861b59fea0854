import Contracts
import Foundation

/// A cart's lines and coupon, and the exact totals they make.
public struct Cart: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var productId: String
        public var sku: String
        public var name: String
        public var quantity: Int
        /// The catalog's price when the item was added.
        public var unitPrice: Money

        public init(productId: String, sku: String, name: String, quantity: Int, unitPrice: Money) {
            self.productId = productId
            self.sku = sku
            self.name = name
            self.quantity = quantity
            self.unitPrice = unitPrice
        }
    }

    public var cartId: String
    public var customerId: String
    public var currency: String
    public var lines: [Line]
    public var coupon: Coupon?

    public init(cartId: String, customerId: String, currency: String, lines: [Line] = [], coupon: Coupon? = nil) {
        self.cartId = cartId
        self.customerId = customerId
        self.currency = currency
        self.lines = lines
        self.coupon = coupon
    }

    public func subtotal() throws(MoneyError) -> Money {
        var total = Money.zero(currency)
        for line in lines { total = try total.adding(line.unitPrice.times(line.quantity)) }
        return total
    }

    /// Subtotal, discount and total. A coupon that no longer applies (the subtotal fell below its
    /// minimum, or it expired) takes nothing off rather than failing the cart.
    public func totals(at now: Date, couponUses: Int = 0) throws(MoneyError) -> CartTotals {
        let subtotal = try subtotal()
        var discount = Money.zero(currency)
        if let coupon, let amount = try? coupon.discount(on: subtotal, at: now, timesUsed: couponUses) {
            discount = amount
        }
        return CartTotals(subtotal: subtotal, discount: discount, total: try subtotal.subtractingFlooringAtZero(discount))
    }

    /// Adds `quantity` of a product, or more of it when it is already in the cart (keeping the price it
    /// was first added at).
    public mutating func add(_ line: Line) {
        if let index = lines.firstIndex(where: { $0.productId == line.productId }) {
            lines[index].quantity += line.quantity
        } else {
            lines.append(line)
        }
    }

    /// Sets a product's quantity; 0 removes it. - Returns: false when the product is not in the cart.
    public mutating func setQuantity(_ quantity: Int, of productId: String) -> Bool {
        guard let index = lines.firstIndex(where: { $0.productId == productId }) else { return false }
        if quantity == 0 { lines.remove(at: index) } else { lines[index].quantity = quantity }
        return true
    }
}
