import Contracts
import Foundation

/// A discount code: a percentage or a fixed amount, with a minimum subtotal, a validity window and a
/// usage limit.
public struct Coupon: Codable, Sendable, Equatable {
    public enum Discount: Codable, Sendable, Equatable {
        /// In basis points: 1 000 = 10 %.
        case percentage(basisPoints: Int)
        case fixed(Money)
    }

    public var code: String
    public var discount: Discount
    public var minimumSubtotal: Money?
    public var validFrom: Date?
    public var validUntil: Date?
    /// Redemptions allowed in all; `nil` is unlimited.
    public var usageLimit: Int?
    /// Redemptions allowed per customer; `nil` is unlimited.
    public var perCustomerLimit: Int?

    public init(
        code: String,
        discount: Discount,
        minimumSubtotal: Money? = nil,
        validFrom: Date? = nil,
        validUntil: Date? = nil,
        usageLimit: Int? = nil,
        perCustomerLimit: Int? = nil
    ) {
        self.code = code
        self.discount = discount
        self.minimumSubtotal = minimumSubtotal
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.usageLimit = usageLimit
        self.perCustomerLimit = perCustomerLimit
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notYetValid(Date)
        case expired(Date)
        case belowMinimum(Money)
        case usedUp(Int)
        case usedUpByCustomer(Int)
        case wrongCurrency(String)
        case amountOutOfRange

        public var description: String {
            switch self {
            case .notYetValid(let date): "coupon is valid from \(date.formatted(.iso8601))"
            case .expired(let date): "coupon expired at \(date.formatted(.iso8601))"
            case .belowMinimum(let money): "coupon needs a subtotal of at least \(money.amountMinor) \(money.currency)"
            case .usedUp(let limit): "coupon reached its usage limit of \(limit)"
            case .usedUpByCustomer(let limit): "coupon may be used \(limit) time\(limit == 1 ? "" : "s") per customer"
            case .wrongCurrency(let currency): "coupon is for \(currency) carts"
            case .amountOutOfRange: "the cart's amount is out of range for a discount"
            }
        }
    }

    /// The discount this coupon takes off `subtotal` at `now`, given how often it was redeemed before.
    /// Never more than the subtotal.
    public func discount(on subtotal: Money, at now: Date, timesUsed: Int, timesUsedByCustomer: Int = 0) throws(Refusal) -> Money {
        if let validFrom, now < validFrom { throw .notYetValid(validFrom) }
        if let validUntil, now >= validUntil { throw .expired(validUntil) }
        if let usageLimit, timesUsed >= usageLimit { throw .usedUp(usageLimit) }
        if let perCustomerLimit, timesUsedByCustomer >= perCustomerLimit { throw .usedUpByCustomer(perCustomerLimit) }
        if let minimumSubtotal {
            guard minimumSubtotal.currency == subtotal.currency else { throw .wrongCurrency(minimumSubtotal.currency) }
            if subtotal.amountMinor < minimumSubtotal.amountMinor { throw .belowMinimum(minimumSubtotal) }
        }
        switch discount {
        case .percentage(let basisPoints):
            do throws(MoneyError) {
                return try subtotal.percentage(basisPoints: min(basisPoints, 10_000))
            } catch {
                throw .amountOutOfRange
            }
        case .fixed(let amount):
            guard amount.currency == subtotal.currency else { throw .wrongCurrency(amount.currency) }
            return Money(min(amount.amountMinor, subtotal.amountMinor), subtotal.currency)
        }
    }
}
