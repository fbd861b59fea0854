import Contracts
import Foundation

/// A cart's lines and coupon, and the exact totals they make.
public struct Cart: Codable, Sendable, Equatable {
    /// A line as the cart's events carry it; `unitPrice` is the catalog's price when the item was added.
    public typealias Line = CartLine

    public var cartId: String
    public var customerId: String
    public var currency: String
    public var lines: [Line]
    public var coupon: Coupon?
    /// The order that checked the cart out; a checked-out cart takes no more changes.
    public var checkedOutBy: String?
    /// Whether the coupon's use is counted yet (at checkout). `nil` with a coupon: it was applied
    /// when applying it counted its use, which a checkout must not count again.
    public var couponUseCounted: Bool?

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

    /// The most of one product a cart (and an order line) holds, and the most lines: the same bounds
    /// as `CreateOrder`'s, so that every cart can be ordered.
    public static let maxQuantityPerLine = 10_000
    public static let maxLines = 100

    /// Why a cart refuses a change; the cart stays as it was.
    public enum LimitError: Error, Equatable, CustomStringConvertible {
        case quantity(Int)
        case lines
        case amount(MoneyError)

        public var description: String {
            switch self {
            case .quantity(let quantity): "a cart holds at most \(Cart.maxQuantityPerLine) of a product, this would make \(quantity)"
            case .lines: "a cart holds at most \(Cart.maxLines) products"
            case .amount(let error): "the cart's total would be out of range (\(error))"
            }
        }
    }

    /// Adds `quantity` of a product, or more of it when it is already in the cart (keeping the price it
    /// was first added at). Refused past the cart's bounds, or when its totals would leave the range
    /// of amounts.
    public mutating func add(_ line: Line) throws(LimitError) {
        var changed = self
        if let index = changed.lines.firstIndex(where: { $0.productId == line.productId }) {
            let (quantity, overflow) = changed.lines[index].quantity.addingReportingOverflow(line.quantity)
            guard !overflow, (1...Self.maxQuantityPerLine).contains(quantity) else { throw .quantity(overflow ? .max : quantity) }
            changed.lines[index].quantity = quantity
        } else {
            guard (1...Self.maxQuantityPerLine).contains(line.quantity) else { throw .quantity(line.quantity) }
            guard changed.lines.count < Self.maxLines else { throw .lines }
            changed.lines.append(line)
        }
        try changed.checkAmounts()
        self = changed
    }

    /// Sets a product's quantity; 0 removes it. - Returns: false when the product is not in the cart.
    public mutating func setQuantity(_ quantity: Int, of productId: String) throws(LimitError) -> Bool {
        guard let index = lines.firstIndex(where: { $0.productId == productId }) else { return false }
        guard (0...Self.maxQuantityPerLine).contains(quantity) else { throw .quantity(quantity) }
        var changed = self
        if quantity == 0 { changed.lines.remove(at: index) } else { changed.lines[index].quantity = quantity }
        try changed.checkAmounts()
        self = changed
        return true
    }

    private func checkAmounts() throws(LimitError) {
        do throws(MoneyError) {
            _ = try subtotal()
        } catch {
            throw .amount(error)
        }
    }
}
