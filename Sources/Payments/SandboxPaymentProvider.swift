import Contracts
import Synchronization

/// The local default provider: deterministic outcomes chosen by token, and an idempotency-key ledger
/// like a real gateway's.
///
/// - `tok_decline…` is declined, `tok_timeout…` never answers in time, any other token succeeds.
/// - A repeated idempotency key returns the first result; the same key with another amount is refused.
public final class SandboxPaymentProvider: PaymentProvider {
    public let name = "sandbox"
    private let ledger = Mutex<Ledger>(Ledger())

    private struct Ledger {
        var charges: [String: ProviderCharge] = [:]
        var refunds: [String: ProviderRefund] = [:]
        var refundedPerCharge: [String: Int] = [:]
        var sequence = 0
    }

    public init() {}

    /// How many distinct charges were made: what a test checks to prove nothing was charged twice.
    public var chargeCount: Int { ledger.withLock { $0.charges.count } }

    public func authorizeAndCapture(amount: Money, token: String, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderCharge {
        if token.hasPrefix("tok_timeout") { throw .timedOut }
        if token.hasPrefix("tok_decline") { throw .declined("card declined") }
        guard amount.amountMinor > 0 else { throw .invalidRequest("amount must be positive") }
        return try ledger.withLock { ledger throws(PaymentProviderError) in
            if let earlier = ledger.charges[idempotencyKey] {
                guard earlier.amount == amount else { throw .invalidRequest("idempotency key reused with another amount") }
                return earlier
            }
            ledger.sequence += 1
            let charge = ProviderCharge(reference: "sbx_ch_\(ledger.sequence)", amount: amount)
            ledger.charges[idempotencyKey] = charge
            return charge
        }
    }

    public func refund(charge reference: String, amount: Money, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderRefund {
        try ledger.withLock { ledger throws(PaymentProviderError) in
            if let earlier = ledger.refunds[idempotencyKey] { return earlier }
            guard let charge = ledger.charges.values.first(where: { $0.reference == reference }) else {
                throw .invalidRequest("unknown charge \(reference)")
            }
            let already = ledger.refundedPerCharge[reference, default: 0]
            guard amount.currency == charge.amount.currency, amount.amountMinor > 0, already + amount.amountMinor <= charge.amount.amountMinor else {
                throw .invalidRequest("refund exceeds what is left of the charge")
            }
            ledger.sequence += 1
            let refund = ProviderRefund(reference: "sbx_re_\(ledger.sequence)", amount: amount)
            ledger.refunds[idempotencyKey] = refund
            ledger.refundedPerCharge[reference] = already + amount.amountMinor
            return refund
        }
    }
}
