import Contracts

/// One payment's money: authorized, captured, refunded. Refunds never exceed what was captured.
public struct PaymentLedger: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case authorized, captured, failed, refunded, partiallyRefunded = "partially_refunded"
    }

    public private(set) var status: Status
    public private(set) var authorized: Money
    public private(set) var captured: Money
    public private(set) var refunded: Money
    /// Refund ids already accepted: a repeated RefundPayment is recognised, not paid twice.
    public private(set) var refunds: [String: Money] = [:]

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notCaptured
        case alreadyCaptured
        case exceedsAuthorization(Money)
        case exceedsCaptured(remaining: Money)
        case currencyMismatch(String)
        case nonPositive
        case refundIdReused(String, Money)

        public var description: String {
            switch self {
            case .notCaptured: "nothing has been captured"
            case .alreadyCaptured: "the payment was already captured"
            case .exceedsAuthorization(let money): "cannot capture more than the \(money.amountMinor) \(money.currency) authorized"
            case .exceedsCaptured(let remaining): "cannot refund more than the \(remaining.amountMinor) \(remaining.currency) left to refund"
            case .currencyMismatch(let currency): "the payment is in \(currency)"
            case .nonPositive: "the amount must be positive"
            case .refundIdReused(let id, let money): "refund \(id) was already requested for \(money.amountMinor) \(money.currency)"
            }
        }
    }

    public init(authorized: Money) {
        status = .authorized
        self.authorized = authorized
        captured = .zero(authorized.currency)
        refunded = .zero(authorized.currency)
    }

    /// Captures `amount`, or everything authorized.
    public mutating func capture(_ amount: Money? = nil) throws(Refusal) {
        guard status == .authorized else { throw .alreadyCaptured }
        let amount = amount ?? authorized
        guard amount.currency == authorized.currency else { throw .currencyMismatch(authorized.currency) }
        guard amount.amountMinor > 0 else { throw .nonPositive }
        guard amount.amountMinor <= authorized.amountMinor else { throw .exceedsAuthorization(authorized) }
        captured = amount
        status = .captured
    }

    /// What of the capture is not refunded yet.
    public var leftToRefund: Money { Money(max(0, captured.amountMinor - refunded.amountMinor), captured.currency) }

    /// Accepts a refund. Repeating a refund id with the same amount is a no-op that returns false.
    @discardableResult
    public mutating func refund(_ refundId: String, _ amount: Money) throws(Refusal) -> Bool {
        if let earlier = refunds[refundId] {
            // The id names the whole request: the same id with another amount is a different refund.
            guard earlier == amount else { throw .refundIdReused(refundId, earlier) }
            return false
        }
        guard captured.amountMinor > 0 else { throw .notCaptured }
        guard amount.currency == captured.currency else { throw .currencyMismatch(captured.currency) }
        guard amount.amountMinor > 0 else { throw .nonPositive }
        let remaining = captured.amountMinor - refunded.amountMinor
        guard amount.amountMinor <= remaining else { throw .exceedsCaptured(remaining: Money(remaining, captured.currency)) }
        refunded = Money(refunded.amountMinor + amount.amountMinor, captured.currency)
        refunds[refundId] = amount
        status = refunded == captured ? .refunded : .partiallyRefunded
        return true
    }
}

/// The idempotency key a payment step sends to its provider: the same payment and step always give the
/// same key, so a retry after a crash is recognised by the provider instead of charging twice.
public func paymentIdempotencyKey(paymentId: String, step: String) -> String { "souk-\(paymentId)-\(step)" }
