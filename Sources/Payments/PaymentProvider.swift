import Contracts

/// A payment gateway as the payment role sees it. Every call carries an idempotency key derived from
/// the payment and the step (`Commerce.paymentIdempotencyKey`), so a retry after a crash is answered with the
/// first call's result instead of charging twice.
public protocol PaymentProvider: Sendable {
    var name: String { get }
    /// Holds `amount` on the payment method.
    func authorize(amount: Money, token: String, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderCharge
    /// Takes (part of) what an authorization holds.
    func capture(charge: String, amount: Money, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderCharge
    func refund(charge: String, amount: Money, idempotencyKey: String) async throws(PaymentProviderError) -> ProviderRefund
}

public struct ProviderCharge: Sendable, Equatable, Codable {
    public var reference: String
    public var amount: Money
}

public struct ProviderRefund: Sendable, Equatable, Codable {
    public var reference: String
    public var amount: Money
}

public enum PaymentProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The card or account refused: final.
    case declined(String)
    /// No answer in time: retry with the same idempotency key.
    case timedOut
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .declined(let reason): "declined: \(reason)"
        case .timedOut: "the provider did not answer in time"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        }
    }
}
