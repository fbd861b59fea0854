import Commerce
import Contracts
import Foundation
import JSONCodec
import RoleSupport
import Streams

/// Customers: registration with a unique e-mail address, profile, addresses, billing display data.
///
/// E-mail uniqueness is decided on the address's partition (a repartition topic), like the catalog's
/// SKUs. Any command carrying what looks like a card number is refused: Souk keeps tokens only.
public struct CustomerRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics

    public struct Topics: Sendable {
        public var commands = "souk.customer.commands.v1"
        public var events = "souk.customer.events.v1"
        public var emailClaims = "souk.customer.email-claims.v1"
        public var emailDecisions = "souk.customer.email-decisions.v1"
        /// The order saga asks whether a payment token is the customer's own, on the customer's partition.
        public var paymentMethodChecks = "souk.customer.payment-method-checks.v1"
        public init() {}
    }

    public init(name: String = "customer", topics: Topics = Topics()) {
        self.name = name
        self.topics = topics
    }

    public var inputTopics: [String] { [topics.commands, topics.emailClaims, topics.emailDecisions, topics.paymentMethodChecks] }

    public func stateKey(for record: InboundRecord) -> String {
        record.topic == topics.emailClaims ? "email:\(record.stateKey)" : "customer:\(record.stateKey)"
    }

    public func decode(_ record: InboundRecord) throws -> CustomerInput {
        guard let type = record.type else { throw PoisonMessage("missing ce_type header") }
        let bytes = record.value ?? []
        if record.topic == topics.commands, let json = try? JSONValue.parse(bytes),
            let field = CardNumberDetector.fieldsWithCardNumbers(in: json).first
        {
            return .carriesCardNumber(commandType: type, customerId: record.stateKey, field: field)
        }
        switch type {
        case RegisterCustomer.typeName: return .register(try ContractCodec.decode(RegisterCustomer.self, bytes))
        case UpdateCustomerProfile.typeName: return .updateProfile(try ContractCodec.decode(UpdateCustomerProfile.self, bytes))
        case UpdateShippingAddress.typeName: return .updateAddress(try ContractCodec.decode(UpdateShippingAddress.self, bytes))
        case UpdateBillingInfo.typeName: return .updateBilling(try ContractCodec.decode(UpdateBillingInfo.self, bytes))
        case EmailClaim.type: return .claim(try SoukJSON.decode(EmailClaim.self, from: bytes))
        case EmailDecision.type: return .decision(try SoukJSON.decode(EmailDecision.self, from: bytes))
        case PaymentMethodCheck.type: return .paymentMethodCheck(try SoukJSON.decode(PaymentMethodCheck.self, from: bytes), replyTo: ReplyAddress(record))
        default: throw PoisonMessage("the customer role does not handle \(type)")
        }
    }

    public func handle(_ input: CustomerInput, state: CustomerState?, context: HandlerContext) throws -> HandlerResult<CustomerState> {
        var state = state ?? CustomerState()
        let commandId = context.record.id
        switch input {
        case .carriesCardNumber(let type, let customerId, let field):
            return rejected(commandId, type, customerId, "carries what looks like a card number; send a payment-method token instead", field: field)

        case .register(let command):
            if state.profile != nil || state.pending != nil {
                return rejected(commandId, RegisterCustomer.typeName, command.customerId, "customer \(command.customerId) already exists", field: "/customerId")
            }
            state.pending = .init(commandId: commandId, command: command)
            let email = command.email.lowercased()
            let claim = EmailClaim(email: email, customerId: command.customerId, commandId: commandId)
            return HandlerResult(state: .set(state), outputs: [try internalMessage(topics.emailClaims, key: email, EmailClaim.type, claim)])

        case .claim(let claim):
            let owner = state.emailOwner ?? claim.customerId
            state.emailOwner = owner
            let decision = EmailDecision(email: claim.email, customerId: claim.customerId, commandId: claim.commandId, owner: owner)
            return HandlerResult(state: .set(state), outputs: [try internalMessage(topics.emailDecisions, key: claim.customerId, EmailDecision.type, decision)])

        case .decision(let decision):
            guard let pending = state.pending, pending.commandId == decision.commandId else { return HandlerResult() }
            state.pending = nil
            guard decision.granted else {
                return HandlerResult(
                    state: .set(state),
                    outputs: [try rejection(pending.commandId, RegisterCustomer.typeName, decision.customerId, "e-mail address is already registered", field: "/email")]
                )
            }
            let command = pending.command
            state.profile = CustomerProfile(customerId: command.customerId, email: decision.email, name: command.name, phone: command.phone)
            let event = CustomerRegistered(customerId: command.customerId, email: decision.email, name: command.name, phone: command.phone, registeredAt: context.now)
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .updateProfile(let command):
            guard var profile = state.profile else { return unknown(commandId, command) }
            profile.name = command.name ?? profile.name
            profile.phone = command.phone ?? profile.phone
            state.profile = profile
            return HandlerResult(
                state: .set(state),
                outputs: [try emit(ProfileUpdated(customerId: profile.customerId, name: profile.name, phone: profile.phone, updatedAt: context.now))]
            )

        case .updateAddress(let command):
            guard state.profile != nil else { return unknown(commandId, command) }
            state.addresses.upsert(command.address, makeDefault: command.makeDefault ?? false)
            let event = AddressUpdated(
                customerId: command.customerId, address: command.address, defaultAddressId: state.addresses.defaultAddressId ?? command.address.addressId,
                updatedAt: context.now
            )
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .paymentMethodCheck(let check, let address):
            guard let address else { return HandlerResult() }
            // The saved method is checked by its token; a customer who never saved one has none to use.
            let refusal: String? =
                if state.profile == nil {
                    "unknown customer \(check.customerId)"
                } else if state.billing?.paymentMethodToken == check.paymentToken {
                    nil
                } else {
                    "the payment token is not a payment method customer \(check.customerId) saved"
                }
            let answer = PaymentMethodAnswer(orderId: check.orderId, refusal: refusal, field: state.profile == nil ? "/customerId" : "/paymentToken")
            return HandlerResult(outputs: [try outputs.answer(answer, to: address)])

        case .updateBilling(let command):
            guard state.profile != nil else { return unknown(commandId, command) }
            state.billing = BillingInfo(
                paymentMethodToken: command.paymentMethodToken, brand: command.brand, last4: command.last4,
                expiryMonth: command.expiryMonth, expiryYear: command.expiryYear
            )
            let event = BillingInfoUpdated(
                customerId: command.customerId, paymentMethodToken: command.paymentMethodToken, brand: command.brand, last4: command.last4,
                expiryMonth: command.expiryMonth, expiryYear: command.expiryYear, updatedAt: context.now
            )
            return HandlerResult(state: .set(state), outputs: [try emit(event)])
        }
    }

    // MARK: - Outputs

    private var outputs: ContextOutputs { ContextOutputs(eventsTopic: topics.events) }

    private func emit<Event: TopicMessage>(_ event: Event) throws -> OutboundMessage { try outputs.event(event) }

    private func rejection(_ commandId: String, _ type: String, _ customerId: String, _ reason: String, field: String?) throws -> OutboundMessage {
        try outputs.rejection(commandId: commandId, commandType: type, aggregateId: customerId, reason: reason, field: field)
    }

    private func rejected(_ commandId: String, _ type: String, _ customerId: String, _ reason: String, field: String?) -> HandlerResult<CustomerState> {
        outputs.rejected(commandId: commandId, commandType: type, aggregateId: customerId, reason: reason, field: field)
    }

    private func unknown<Command: TopicMessage>(_ commandId: String, _ command: Command) -> HandlerResult<CustomerState> {
        rejected(commandId, Command.typeName, command.key, "unknown customer \(command.key)", field: "/customerId")
    }

    private func internalMessage<Message: Encodable>(_ topic: String, key: String, _ type: String, _ message: Message) throws -> OutboundMessage {
        try outputs.internalMessage(topic, key: key, type: type, message)
    }
}
