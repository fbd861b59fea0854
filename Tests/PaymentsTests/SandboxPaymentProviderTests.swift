import Commerce
import Contracts
import Payments
import Foundation
import Testing

@Suite struct SandboxPaymentProviderTests {
    let amount = Money(250_000, "VND")

    @Test(arguments: [
        ("tok_decline_visa", PaymentProviderError.declined("card declined")),
        ("tok_timeout", .timedOut),
    ])
    func outcomesByToken(token: String, error: PaymentProviderError) async throws {
        let provider = try SandboxPaymentProvider()
        await #expect(throws: error) { try await provider.authorizeAndCapture(amount: amount, token: token, idempotencyKey: "k") }
        #expect(provider.chargeCount == 0)
    }

    @Test func aRetryWithTheSameKeyNeverChargesTwice() async throws {
        let provider = try SandboxPaymentProvider()
        let key = paymentIdempotencyKey(paymentId: "pay-1", step: "capture")
        let first = try await provider.authorizeAndCapture(amount: amount, token: "tok_visa", idempotencyKey: key)
        let retry = try await provider.authorizeAndCapture(amount: amount, token: "tok_visa", idempotencyKey: key)
        #expect(first == retry)
        #expect(provider.chargeCount == 1)
        await #expect(throws: PaymentProviderError.invalidRequest("idempotency key reused with another amount")) {
            try await provider.authorizeAndCapture(amount: Money(1, "VND"), token: "tok_visa", idempotencyKey: key)
        }
    }

    /// Two processes (a crashed worker and its successor) naming one journal share one ledger.
    @Test func aJournalIsSharedAcrossProviders() async throws {
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: journal) }
        let first = try SandboxPaymentProvider(journal: journal)
        let charge = try await first.authorizeAndCapture(amount: amount, token: "tok_visa", idempotencyKey: "k1")
        let successor = try SandboxPaymentProvider(journal: journal)
        #expect(try await successor.authorizeAndCapture(amount: amount, token: "tok_visa", idempotencyKey: "k1") == charge)
        _ = try await successor.refund(charge: charge.reference, amount: amount, idempotencyKey: "r1")
        await #expect(throws: PaymentProviderError.invalidRequest("refund exceeds what is left of the charge")) {
            try await first.refund(charge: charge.reference, amount: Money(1, "VND"), idempotencyKey: "r2")
        }
        let audit = try SandboxPaymentProvider.audit(journal: journal)
        #expect(audit == [SandboxPaymentProvider.ChargeAudit(charge: charge.reference, authorizations: 1, captures: 1, capturedMinor: 250_000, refundedMinor: 250_000)])
    }

    @Test func refundsAreIdempotentAndBounded() async throws {
        let provider = try SandboxPaymentProvider()
        let charge = try await provider.authorizeAndCapture(amount: amount, token: "tok_visa", idempotencyKey: "c")
        let first = try await provider.refund(charge: charge.reference, amount: Money(100_000, "VND"), idempotencyKey: "r1")
        #expect(try await provider.refund(charge: charge.reference, amount: Money(100_000, "VND"), idempotencyKey: "r1") == first)
        _ = try await provider.refund(charge: charge.reference, amount: Money(150_000, "VND"), idempotencyKey: "r2")
        await #expect(throws: PaymentProviderError.self) {
            try await provider.refund(charge: charge.reference, amount: Money(1, "VND"), idempotencyKey: "r3")
        }
    }
}
