import Contracts
import Foundation
import Synchronization

/// The local default provider: deterministic outcomes chosen by token, and an idempotency-key ledger
/// like a real gateway's.
///
/// - `tok_decline…` is declined, `tok_timeout…` never answers in time, any other token succeeds.
/// - A repeated idempotency key returns the first result; the same key with another amount is refused.
/// - With a journal file, the ledger is shared by every process that names it and survives restarts,
///   as a real gateway's would: a payment worker killed after charging and restarted is recognised.
public final class SandboxPaymentProvider: PaymentProvider {
    public let name = "sandbox"
    private let ledger: Mutex<Ledger>

    struct Ledger {
        var authorizations: [String: ProviderCharge] = [:]
        var captures: [String: ProviderCharge] = [:]
        var refunds: [String: ProviderRefund] = [:]
        var capturedPerCharge: [String: Int] = [:]
        var refundedPerCharge: [String: Int] = [:]
        var sequence = 0
        var journal: SandboxJournal?

        mutating func apply(_ entry: SandboxJournal.Entry) {
            let money = Money(entry.amountMinor, entry.currency)
            sequence = max(sequence, entry.sequence)
            switch entry.operation {
            case .authorize: authorizations[entry.idempotencyKey] = ProviderCharge(reference: entry.reference, amount: money)
            case .capture:
                captures[entry.idempotencyKey] = ProviderCharge(reference: entry.charge, amount: money)
                capturedPerCharge[entry.charge, default: 0] += entry.amountMinor
            case .refund:
                refunds[entry.idempotencyKey] = ProviderRefund(reference: entry.reference, amount: money)
                refundedPerCharge[entry.charge, default: 0] += entry.amountMinor
            }
        }

        /// Reads what other processes wrote, decides, and records the decision, under the journal's lock.
        mutating func transact<T>(_ body: (inout Ledger) throws(PaymentProviderError) -> (T, SandboxJournal.Entry?)) throws(PaymentProviderError) -> T {
            guard let journal else {
                let (result, entry) = try body(&self)
                if let entry { apply(entry) }
                return result
            }
            do {
                return try journal.locked { () throws(PaymentProviderError) -> T in
                    for entry in journal.readNew() { apply(entry) }
                    let (result, entry) = try body(&self)
                    if let entry {
                        journal.append(entry)
                        apply(entry)
                    }
                    return result
                }
            }
        }
    }

    public init(journal: URL? = nil) throws {
        var ledger = Ledger()
        if let journal { ledger.journal = try SandboxJournal(url: journal) }
        self.ledger = Mutex(ledger)
    }

    /// The journal's `flock` and file I/O block: they run on a queue of their own, never on the
    /// cooperative pool.
    private static let journalQueue = DispatchQueue(label: "souk.sandbox.journal")

    private func onLedger<T: Sendable>(
        _ body: @escaping @Sendable (inout Ledger) throws(PaymentProviderError) -> T
    ) async throws(PaymentProviderError) -> T {
        let result: Result<T, PaymentProviderError> = await withCheckedContinuation { continuation in
            Self.journalQueue.async { [self] in
                continuation.resume(returning: self.ledger.withLock { ledger in Result { () throws(PaymentProviderError) -> T in try body(&ledger) } })
            }
        }
        return try result.get()
    }

    /// How many distinct authorizations were made: what a test checks to prove nothing was charged twice.
    public var chargeCount: Int { ledger.withLock { $0.authorizations.count } }

    public func authorize(amount: Money, token: String, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderCharge {
        if token.hasPrefix("tok_timeout") { throw .timedOut }
        if token.hasPrefix("tok_decline") { throw .declined("card declined") }
        guard amount.amountMinor > 0 else { throw .invalidRequest("amount must be positive") }
        return try await onLedger { ledger throws(PaymentProviderError) in
            try ledger.transact { ledger throws(PaymentProviderError) in
                if let earlier = ledger.authorizations[idempotencyKey] {
                    guard earlier.amount == amount else { throw .invalidRequest("idempotency key reused with another amount") }
                    return (earlier, nil)
                }
                let sequence = ledger.sequence + 1
                let charge = ProviderCharge(reference: "sbx_ch_\(sequence)", amount: amount)
                return (charge, .init(operation: .authorize, sequence: sequence, idempotencyKey: idempotencyKey, reference: charge.reference, charge: charge.reference, amount: amount))
            }
        }
    }

    public func capture(charge reference: String, amount: Money, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderCharge {
        try await onLedger { ledger throws(PaymentProviderError) in
            try ledger.transact { ledger throws(PaymentProviderError) in
                if let earlier = ledger.captures[idempotencyKey] { return (earlier, nil) }
                guard let authorization = ledger.authorizations.values.first(where: { $0.reference == reference }) else {
                    throw .invalidRequest("unknown charge \(reference)")
                }
                let already = ledger.capturedPerCharge[reference, default: 0]
                guard amount.currency == authorization.amount.currency, amount.amountMinor > 0,
                    already + amount.amountMinor <= authorization.amount.amountMinor
                else { throw .invalidRequest("capture exceeds what is left of the authorization") }
                let sequence = ledger.sequence + 1
                let capture = ProviderCharge(reference: reference, amount: amount)
                return (capture, .init(operation: .capture, sequence: sequence, idempotencyKey: idempotencyKey, reference: "sbx_cp_\(sequence)", charge: reference, amount: amount))
            }
        }
    }

    public func refund(charge reference: String, amount: Money, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderRefund {
        try await onLedger { ledger throws(PaymentProviderError) in
            try ledger.transact { ledger throws(PaymentProviderError) in
                if let earlier = ledger.refunds[idempotencyKey] { return (earlier, nil) }
                guard let captured = ledger.capturedPerCharge[reference], let currency = ledger.authorizations.values.first(where: { $0.reference == reference })?.amount.currency else {
                    throw .invalidRequest("nothing captured on \(reference)")
                }
                let already = ledger.refundedPerCharge[reference, default: 0]
                guard amount.currency == currency, amount.amountMinor > 0, already + amount.amountMinor <= captured else {
                    throw .invalidRequest("refund exceeds what is left of the charge")
                }
                let sequence = ledger.sequence + 1
                let refund = ProviderRefund(reference: "sbx_re_\(sequence)", amount: amount)
                return (refund, .init(operation: .refund, sequence: sequence, idempotencyKey: idempotencyKey, reference: refund.reference, charge: reference, amount: amount))
            }
        }
    }
}

extension PaymentProvider {
    /// Authorizes and captures in full, each step with its own idempotency key.
    public func authorizeAndCapture(amount: Money, token: String, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderCharge {
        let authorization = try await authorize(amount: amount, token: token, idempotencyKey: idempotencyKey)
        return try await capture(charge: authorization.reference, amount: amount, idempotencyKey: idempotencyKey + "-capture")
    }
}
