import Contracts

/// Money arithmetic in minor units. Mixing currencies is an error, never a silent conversion.
public enum MoneyError: Error, Equatable, CustomStringConvertible {
    case currencyMismatch(String, String)
    case negative(Int)
    case overflow
    /// A quantity that a price is multiplied by, out of the bounds lines have.
    case quantity(Int)

    public var description: String {
        switch self {
        case .currencyMismatch(let a, let b): "currency mismatch: \(a) and \(b)"
        case .negative(let amount): "amount must not be negative, got \(amount)"
        case .overflow: "amount out of range (at most \(Money.maxAmountMinor) minor units)"
        case .quantity(let quantity): "quantity must be 1 to \(Cart.maxQuantityPerLine), got \(quantity)"
        }
    }
}

extension Money {
    public static func zero(_ currency: String) -> Money { Money(0, currency) }

    /// `self`, or `MoneyError.overflow` when it is out of `maxAmountMinor`.
    public func checked() throws(MoneyError) -> Money {
        guard (-Self.maxAmountMinor...Self.maxAmountMinor).contains(amountMinor) else { throw .overflow }
        return self
    }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = amountMinor.addingReportingOverflow(other.amountMinor)
        guard !overflow else { throw .overflow }
        return try Money(sum, currency).checked()
    }

    /// `self - other`, floored at zero (a discount never makes a total negative).
    public func subtractingFlooringAtZero(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (difference, overflow) = amountMinor.subtractingReportingOverflow(other.amountMinor)
        guard !overflow else { throw .overflow }
        return try Money(max(0, difference), currency).checked()
    }

    public func times(_ quantity: Int) throws(MoneyError) -> Money {
        let (product, overflow) = amountMinor.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw .overflow }
        return try Money(product, currency).checked()
    }

    /// `basisPoints`/10 000 of the amount, rounded half up to the minor unit (1 050 bp = 10.5 %).
    /// Computed as whole ten-thousandths plus the rest, so that no intermediate product overflows.
    public func percentage(basisPoints: Int) throws(MoneyError) -> Money {
        guard amountMinor >= 0 else { throw .negative(amountMinor) }
        guard basisPoints >= 0 else { throw .negative(basisPoints) }
        let (whole, rest) = amountMinor.quotientAndRemainder(dividingBy: 10_000)
        let (wholePart, overflow) = whole.multipliedReportingOverflow(by: basisPoints)
        let (restPart, restOverflow) = rest.multipliedReportingOverflow(by: basisPoints)
        guard !overflow, !restOverflow else { throw .overflow }
        let (sum, sumOverflow) = wholePart.addingReportingOverflow(restPart / 10_000 + (restPart % 10_000 + 5_000) / 10_000)
        guard !sumOverflow else { throw .overflow }
        return try Money(sum, currency).checked()
    }
}
