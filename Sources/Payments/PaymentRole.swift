import Commerce
import Contracts
import Foundation
import RoleSupport
import Streams

/// Payments: authorize (and, by default, capture at once), capture later, refund within what was
/// captured. Each provider call carries the payment's idempotency key for that step, so a batch that
/// is aborted and handled again after a crash is answered by the provider with the first result.
public struct PaymentRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics
    public let provider: any PaymentProvider

    public struct Topics: Sendable {
        public var commands = "souk.payment.commands.v1"
        public var events = "souk.payment.events.v1"
        public init() {}
    }

    public init(name: String = "payment", provider: any PaymentProvider, topics: Topics = Topics()) {
        self.name = name
        self.provider = provider
        self.topics = topics
    }

    public var inputTopics: [String] { [topics.commands] }

    public enum Input: Sendable {
        case process(ProcessPayment)
        case capture(CapturePayment)
        case refund(RefundPayment)
    }

    public func decode(_ record: InboundRecord) throws -> Input {
        let bytes = record.value ?? []
        switch record.type {
        case ProcessPayment.typeName: return .process(try ContractCodec.decode(ProcessPayment.self, bytes))
        case CapturePayment.typeName: return .capture(try ContractCodec.decode(CapturePayment.self, bytes))
        case RefundPayment.typeName: return .refund(try ContractCodec.decode(RefundPayment.self, bytes))
        default: throw PoisonMessage("the payment role does not handle \(record.type ?? "a record without ce_type")")
        }
    }

    public func handle(_ input: Input, state: PaymentState?, context: HandlerContext) async throws -> HandlerResult<PaymentState> {
        let now = context.now
        let requester = ReplyAddress(context.record)
        switch input {
        case .process(let command):
            if let state {
                return reject(context, ProcessPayment.typeName, command.paymentId, "payment \(command.paymentId) was already \(state.status)", "/paymentId", state.replyTo ?? requester)
            }
            var state = PaymentState(orderId: command.orderId, customerId: command.customerId, amount: command.amount, replyTo: requester)
            let authorization: ProviderCharge
            do {
                authorization = try await provider.authorize(
                    amount: command.amount, token: command.paymentToken, idempotencyKey: paymentIdempotencyKey(paymentId: command.paymentId, step: "authorize")
                )
            } catch .timedOut {
                throw TransientError("\(provider.name): the provider did not answer in time")
            } catch {
                state.status = "failed"
                state.failure = error.description
                let event = PaymentFailed(paymentId: command.paymentId, orderId: command.orderId, reason: error.description, failedAt: now)
                return HandlerResult(state: .set(state), outputs: try outputs.event(event, copyTo: state.replyTo))
            }
            state.charge = authorization.reference
            var ledger = PaymentLedger(authorized: command.amount)
            if command.capture != "manual" {
                _ = try await capture(command.paymentId, authorization.reference, command.amount)
                try ledger.capture()
            }
            state.ledger = ledger
            state.status = ledger.status.rawValue
            let event = PaymentProcessed(
                paymentId: command.paymentId, orderId: command.orderId, amount: command.amount, provider: provider.name,
                providerReference: authorization.reference, processedAt: now, status: ledger.status == .captured ? "captured" : "authorized"
            )
            return HandlerResult(state: .set(state), outputs: try outputs.event(event, copyTo: state.replyTo))

        case .capture(let command):
            guard var state, var ledger = state.ledger, let charge = state.charge else {
                return reject(context, CapturePayment.typeName, command.paymentId, "no authorized payment \(command.paymentId)", "/paymentId", requester)
            }
            let amount = command.amount ?? ledger.authorized
            do {
                try ledger.capture(amount)
            } catch {
                return reject(context, CapturePayment.typeName, command.paymentId, error.description, "/amount", requester ?? state.replyTo)
            }
            _ = try await capture(command.paymentId, charge, amount)
            state.ledger = ledger
            state.status = ledger.status.rawValue
            let event = PaymentProcessed(
                paymentId: command.paymentId, orderId: state.orderId, amount: amount, provider: provider.name, providerReference: charge,
                processedAt: now, status: "captured"
            )
            return HandlerResult(state: .set(state), outputs: try outputs.event(event, copyTo: state.replyTo))

        case .refund(let command):
            guard var state, var ledger = state.ledger, let charge = state.charge else {
                return reject(context, RefundPayment.typeName, command.paymentId, "no captured payment \(command.paymentId)", "/paymentId", requester)
            }
            // Without an amount, what is left; a repeated request of that kind is the same refund.
            let amount = command.amount ?? ledger.refunds[command.refundId] ?? ledger.leftToRefund
            if command.amount == nil, ledger.refunds[command.refundId] == nil, amount.amountMinor == 0 { return HandlerResult() }
            let isNew: Bool
            do {
                isNew = try ledger.refund(command.refundId, amount)
            } catch {
                return reject(context, RefundPayment.typeName, command.paymentId, error.description, "/amount", requester ?? state.replyTo)
            }
            guard isNew else { return HandlerResult() }
            let refund: ProviderRefund
            do {
                refund = try await provider.refund(
                    charge: charge, amount: amount, idempotencyKey: paymentIdempotencyKey(paymentId: command.paymentId, step: "refund-\(command.refundId)")
                )
            } catch .timedOut {
                throw TransientError("\(provider.name): the provider did not answer in time")
            } catch {
                return reject(context, RefundPayment.typeName, command.paymentId, error.description, "/amount", requester ?? state.replyTo)
            }
            state.ledger = ledger
            state.status = ledger.status.rawValue
            let replyTo = requester ?? state.replyTo
            let initiated = RefundInitiated(paymentId: command.paymentId, refundId: command.refundId, orderId: state.orderId, amount: amount, initiatedAt: now)
            let completed = RefundCompleted(
                paymentId: command.paymentId, refundId: command.refundId, orderId: state.orderId, amount: refund.amount, providerReference: refund.reference,
                completedAt: now
            )
            return HandlerResult(state: .set(state), outputs: [try outputs.event(initiated)] + (try outputs.event(completed, copyTo: replyTo)))
        }
    }

    private func capture(_ paymentId: String, _ charge: String, _ amount: Money) async throws -> ProviderCharge {
        do {
            return try await provider.capture(charge: charge, amount: amount, idempotencyKey: paymentIdempotencyKey(paymentId: paymentId, step: "capture"))
        } catch .timedOut {
            throw TransientError("\(provider.name): the provider did not answer in time")
        } catch {
            throw PoisonMessage("\(provider.name) refused the capture: \(error)")
        }
    }

    private var outputs: ContextOutputs { ContextOutputs(eventsTopic: topics.events) }


    private func reject(_ context: HandlerContext, _ type: String, _ paymentId: String, _ reason: String, _ field: String, _ replyTo: ReplyAddress?) -> HandlerResult<PaymentState> {
        outputs.rejected(commandId: context.record.id, commandType: type, aggregateId: paymentId, reason: reason, field: field, copyTo: replyTo)
    }
}

/// One payment as the payment role keeps it.
public struct PaymentState: Codable, Sendable, Equatable {
    public var orderId: String
    public var customerId: String
    public var amount: Money
    /// authorized, captured, failed, refunded or partially_refunded.
    public var status = "pending"
    public var ledger: PaymentLedger?
    /// The provider's reference of the authorization.
    public var charge: String?
    public var failure: String?
    public var replyTo: ReplyAddress?

    public init(orderId: String, customerId: String, amount: Money, replyTo: ReplyAddress?) {
        self.orderId = orderId
        self.customerId = customerId
        self.amount = amount
        self.replyTo = replyTo
    }
}
