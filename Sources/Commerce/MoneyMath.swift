import Contracts

/// Money arithmetic in minor units. Mixing currencies is an error, never a silent conversion.
public enum MoneyError: Error, Equatable, CustomStringConvertible {
    case currencyMismatch(String, String)
    case negative(Int)
    case overflow

    public var description: String {
        switch self {
        case .currencyMismatch(let a, let b): "currency mismatch: \(a) and \(b)"
        case .negative(let amount): "amount must not be negative, got \(amount)"
        case .overflow: "amount out of range"
        }
    }
}

extension Money {
    public static func zero(_ currency: String) -> Money { Money(0, currency) }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = amountMinor.addingReportingOverflow(other.amountMinor)
        guard !overflow else { throw .overflow }
        return Money(sum, currency)
    }

    /// `self - other`, floored at zero (a discount never makes a total negative).
    public func subtractingFlooringAtZero(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        return Money(max(0, amountMinor - other.amountMinor), currency)
    }

    public func times(_ quantity: Int) throws(MoneyError) -> Money {
        let (product, overflow) = amountMinor.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw .overflow }
        return Money(product, currency)
    }

    /// `basisPoints`/10 000 of the amount, rounded half up to the minor unit (1 050 bp = 10.5 %).
    public func percentage(basisPoints: Int) -> Money {
        Money((amountMinor * basisPoints + 5_000) / 10_000, currency)
    }
}
