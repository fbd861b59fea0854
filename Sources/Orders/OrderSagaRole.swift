import Commerce
import Contracts
import Foundation
import RoleSupport
import Streams

/// The order saga's orchestrator, keyed by order id: it turns `OrderSaga`'s requests into commands for
/// inventory, payment and shipping (each asking for its answers on a reply topic of that context's own), turns
/// those answers back into the saga's inputs, publishes the order's events, and keeps one deadline
/// timer per order with the timer role.
public struct OrderSagaRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics
    public let deadlines: OrderSaga.Deadlines

    public struct Topics: Sendable {
        public var commands = "souk.order.commands.v1"
        public var events = "souk.order.events.v1"
        /// Each answering context replies on a topic of its own (see `TopicCatalog`).
        public var stockReplies = "souk.order.stock-replies.v1"
        public var paymentReplies = "souk.order.payment-replies.v1"
        public var shippingReplies = "souk.order.shipping-replies.v1"
        public var deadlines = "souk.order.deadlines.v1"
        /// The cart role's answers for an order being placed: a product's price (it keeps the
        /// catalog's per product), a cart's checkout.
        public var cartReplies = "souk.order.cart-replies.v1"
        public var quoteRequests = "souk.cart.quote-requests.v1"
        public var checkoutRequests = "souk.cart.checkout-requests.v1"
        /// The customer role's answers: whether a payment method is the customer's own.
        public var customerReplies = "souk.order.customer-replies.v1"
        public var paymentMethodChecks = "souk.customer.payment-method-checks.v1"
        /// Where every answer went before; still read, so that answers requested before an upgrade arrive.
        public var legacyReplies: String? = "souk.order.saga-replies.v1"
        public var reservations = "souk.inventory.reservations.v1"
        public var payments = "souk.payment.commands.v1"
        public var shipping = "souk.shipping.commands.v1"
        public var timers = TimerClient.defaultTopic
        public init() {}
    }

    public init(name: String = "order-saga", deadlines: OrderSaga.Deadlines = OrderSaga.Deadlines(), topics: Topics = Topics()) {
        self.name = name
        self.deadlines = deadlines
        self.topics = topics
    }

    public var inputTopics: [String] {
        [topics.commands, topics.stockReplies, topics.paymentReplies, topics.shippingReplies, topics.deadlines, topics.cartReplies, topics.customerReplies]
            + (topics.legacyReplies.map { [$0] } ?? [])
    }

    public enum Input: Sendable {
        case create(CreateOrder)
        case updateStatus(UpdateOrderStatus)
        case cancel(CancelOrder)
        /// The catalog's answer for one product of an order being placed.
        case quote(ProductQuote)
        /// The cart's answer to an order checking it out.
        case checkout(CartCheckout)
        /// The customer's word on the order's payment token.
        case paymentMethod(PaymentMethodAnswer)
        /// An answer from another context, as the saga's input (or `nil`: only worth a note).
        case answer(OrderSaga.Input?, note: String?)
    }

    public func decode(_ record: InboundRecord) throws -> Input {
        guard let type = record.type else { throw PoisonMessage("missing ce_type header") }
        let bytes = record.value ?? []
        switch type {
        case CreateOrder.typeName: return .create(try ContractCodec.decode(CreateOrder.self, bytes))
        case UpdateOrderStatus.typeName: return .updateStatus(try ContractCodec.decode(UpdateOrderStatus.self, bytes))
        case CancelOrder.typeName: return .cancel(try ContractCodec.decode(CancelOrder.self, bytes))
        case StockAnswer.type:
            let answer = try StockAnswer.decode(record)
            switch answer.outcome {
            case .reserved: return .answer(.reserved(sku: answer.sku), note: nil)
            case .refused: return .answer(.reservationRefused(sku: answer.sku, reason: answer.reason ?? "refused"), note: nil)
            case .expired: return .answer(.reservationExpired(sku: answer.sku), note: nil)
            case .confirmed: return .answer(.stockConfirmed(sku: answer.sku), note: "sold \(answer.quantity) × \(answer.sku)")
            case .released: return .answer(nil, note: "released \(answer.quantity) × \(answer.sku)")
            case .returned: return .answer(nil, note: "returned \(answer.quantity) × \(answer.sku) to stock")
            }
        case PaymentProcessed.typeName:
            let event = try ContractCodec.decode(PaymentProcessed.self, bytes)
            return .answer(event.isCaptured ? .paymentProcessed : nil, note: event.isCaptured ? nil : "payment authorized")
        case PaymentFailed.typeName:
            return .answer(.paymentFailed(reason: try ContractCodec.decode(PaymentFailed.self, bytes).reason), note: nil)
        case RefundCompleted.typeName:
            let event = try ContractCodec.decode(RefundCompleted.self, bytes)
            return .answer(nil, note: "refunded \(event.amount.amountMinor) \(event.amount.currency)")
        case ShipmentCreated.typeName:
            return .answer(.shipmentCreated(shipmentId: try ContractCodec.decode(ShipmentCreated.self, bytes).shipmentId), note: nil)
        case CarrierAssigned.typeName:
            let event = try ContractCodec.decode(CarrierAssigned.self, bytes)
            return .answer(nil, note: "carrier \(event.carrier) (\(event.service))")
        case ShipmentStatusUpdated.typeName:
            let event = try ContractCodec.decode(ShipmentStatusUpdated.self, bytes)
            if event.status == ShipmentStatus.pickedUp.rawValue { return .answer(.shipmentDispatched, note: nil) }
            return .answer(nil, note: "shipment \(event.status.replacingOccurrences(of: "_", with: " "))")
        case DeliveryCompleted.typeName:
            return .answer(.deliveryCompleted, note: nil)
        case DeadlineReached.type:
            return .answer(.tick, note: nil)
        case ProductQuote.type:
            return .quote(try ProductQuote.decode(record))
        case CartCheckout.type:
            return .checkout(try CartCheckout.decode(record))
        case PaymentMethodAnswer.type:
            return .paymentMethod(try PaymentMethodAnswer.decode(record))
        case CommandRejected.typeName:
            let event = try ContractCodec.decode(CommandRejected.self, bytes)
            let command = event.commandType.split(separator: ".").dropLast().last.map(String.init) ?? event.commandType
            return .answer(nil, note: "\(command) rejected: \(event.reason)")
        default:
            throw PoisonMessage("the order saga does not handle \(type)")
        }
    }

    public func handle(_ input: Input, state: OrderState?, context: HandlerContext) throws -> HandlerResult<OrderState> {
        let now = context.now
        switch input {
        case .create(let command):
            if let customer = context.record.actingCustomer, customer != command.customerId {
                return reject(context, CreateOrder.typeName, command.orderId, "a customer may place orders only for itself", "/customerId")
            }
            if let state {
                return reject(context, CreateOrder.typeName, command.orderId, "order \(command.orderId) already exists (\(state.statusName))", "/orderId")
            }
            if command.lines.isEmpty && command.cartId == nil {
                return reject(context, CreateOrder.typeName, command.orderId, "an order needs lines, or a cartId to check out", "/lines")
            }
            if !command.lines.isEmpty && command.cartId != nil {
                return reject(
                    context, CreateOrder.typeName, command.orderId, "an order has lines or a cartId to check out, not both (a cart's checkout sends no lines)", "/cartId"
                )
            }
            // The order starts once the catalog has priced it (its products' quotes, or the cart's
            // checkout); before that, an end user's payment token must prove to be a method the
            // customer saved. Until then only the request is kept.
            let pending = PendingOrder(
                commandId: context.record.id, deadline: now + deadlines.reservation,
                pricing: command.lines.isEmpty ? nil : OrderPricing(items: command.lines, trusted: context.record.actingSystem != nil),
                awaitingPaymentMethod: context.record.actingSystem == nil
            )
            let state = OrderState(
                pending: pending, customerId: command.customerId, paymentToken: command.paymentToken, address: command.shippingAddress, cartId: command.cartId
            )
            var outputs: [OutboundMessage]
            if pending.awaitingPaymentMethod {
                let check = PaymentMethodCheck(orderId: command.orderId, customerId: command.customerId, paymentToken: command.paymentToken)
                outputs = [
                    try events.internalMessage(topics.paymentMethodChecks, key: command.customerId, type: PaymentMethodCheck.type, check)
                        .replying(to: ReplyAddress(topic: topics.customerReplies, key: command.orderId))
                ]
            } else {
                outputs = try pricingRequests(state, orderId: command.orderId)
            }
            outputs.append(try deadlineTimer(command.orderId, at: pending.deadline, context))
            return HandlerResult(state: .set(state), outputs: outputs)

        case .paymentMethod(let answer):
            guard var state, var pending = state.pending, state.saga == nil, pending.awaitingPaymentMethod else { return HandlerResult() }
            if let refusal = answer.refusal {
                return try refuse(pending, orderId: answer.orderId, PricingRefusal(refusal, field: answer.field ?? "/paymentToken"))
            }
            pending.awaitingPaymentMethod = false
            state.pending = pending
            return HandlerResult(state: .set(state), outputs: try pricingRequests(state, orderId: answer.orderId))

        case .quote(let quote):
            guard var state, var pending = state.pending, var pricing = pending.pricing, state.saga == nil, !pending.awaitingPaymentMethod else {
                return HandlerResult()
            }
            let answer: OrderPricing.Answer =
                if let sku = quote.sku, let price = quote.price {
                    .offered(sku: sku, price: price, weightGrams: quote.weightGrams)
                } else {
                    .refused(quote.refusal ?? "product \(quote.productId) cannot be sold")
                }
            pricing.receive(answer, for: quote.productId)
            pending.pricing = pricing
            state.pending = pending
            guard pricing.isComplete else { return HandlerResult(state: .set(state)) }
            switch pricing.priced() {
            case .failure(let refusal): return try refuse(pending, orderId: quote.orderId, refusal)
            case .success(let priced): return try start(state, pending, priced, orderId: quote.orderId, context)
            }

        case .checkout(let checkout):
            guard let state, let pending = state.pending, state.cartId == checkout.cartId, state.saga == nil, !pending.awaitingPaymentMethod else {
                // A cart closed for an order that was refused meanwhile (its deadline passed) opens again;
                // one this order already started from is a copy.
                let startedFromIt = state?.saga != nil && state?.cartId == checkout.cartId
                guard checkout.refusal == nil, !startedFromIt else { return HandlerResult() }
                return HandlerResult(outputs: [try reopen(checkout.cartId, for: checkout.orderId, because: "order \(checkout.orderId) was not placed")])
            }
            if let refusal = checkout.refusal { return try refuse(pending, orderId: checkout.orderId, PricingRefusal(refusal, field: "/cartId")) }
            switch OrderPricing.check(checkout.lines, weights: checkout.lines.map { checkout.weightGrams[$0.productId] }) {
            case .failure(let refusal):
                return try refuse(pending, orderId: checkout.orderId, PricingRefusal(refusal.reason, field: "/cartId"), reopening: checkout)
            case .success(let priced):
                return try start(state, pending, priced, checkout: checkout, orderId: checkout.orderId, context)
            }

        case .cancel(let command):
            guard let state else { return reject(context, CancelOrder.typeName, command.orderId, "unknown order \(command.orderId)", "/orderId") }
            if let customer = context.record.actingCustomer, customer != state.customerId {
                return reject(context, CancelOrder.typeName, command.orderId, "order \(command.orderId) belongs to another customer", "/orderId")
            }
            guard let saga = state.saga else { return reject(context, CancelOrder.typeName, command.orderId, state.stillPricing(command.orderId), "/orderId") }
            if let refusal = saga.canCancel() { return reject(context, CancelOrder.typeName, command.orderId, refusal.description, "/orderId") }
            return try advance(state, saga, .cancel(reason: command.reason ?? "cancelled by the customer"), context)

        case .updateStatus(let command):
            guard let state else { return reject(context, UpdateOrderStatus.typeName, command.orderId, "unknown order \(command.orderId)", "/orderId") }
            if context.record.actingCustomer != nil {
                return reject(context, UpdateOrderStatus.typeName, command.orderId, "only operators move an order's status", "/status")
            }
            guard let saga = state.saga else {
                // An operator may end an order stuck while it is priced; nothing was reserved or charged yet.
                guard command.status == "failed" || command.status == "cancelled", let pending = state.pending else {
                    return reject(context, UpdateOrderStatus.typeName, command.orderId, state.stillPricing(command.orderId), "/status")
                }
                let reason = "ended by an operator while it was priced: \(command.reason ?? command.status)"
                return try refuse(pending, orderId: command.orderId, PricingRefusal(reason, field: "/orderId"))
            }
            if saga.status.isTerminal {
                return reject(context, UpdateOrderStatus.typeName, command.orderId, OrderSaga.Refusal.alreadyEnded(saga.status).description, "/status")
            }
            let reason = command.reason ?? "set by an operator"
            switch command.status {
            case "cancelled":
                if let refusal = saga.canCancel() { return reject(context, UpdateOrderStatus.typeName, command.orderId, refusal.description, "/status") }
                return try advance(state, saga, .cancel(reason: reason), context)
            case "failed":
                return try advance(state, saga, .fail(reason: reason), context)
            case "fulfilled":
                guard saga.status == .shipping, saga.shipmentId != nil else {
                    return reject(context, UpdateOrderStatus.typeName, command.orderId, OrderSaga.Refusal.notShipping.description, "/status")
                }
                return try advance(state, saga, .deliveryCompleted, context)
            default:
                return reject(
                    context, UpdateOrderStatus.typeName, command.orderId,
                    "\(command.status) is reached by the saga itself; an operator may set cancelled, failed or fulfilled", "/status"
                )
            }

        case .answer(let sagaInput, let note):
            guard var state else { return try undoStray(sagaInput, context) }
            guard var saga = state.saga else {
                // An order being priced hears only its deadline: the catalog did not answer in time.
                guard sagaInput == .tick, let pending = state.pending, let orderId = context.record.key else { return HandlerResult() }
                // A timer that went off early (a clock ahead of this one) is set again: firing removed it.
                guard now >= pending.deadline else { return HandlerResult(outputs: [try deadlineTimer(orderId, at: pending.deadline, context)]) }
                let waitedFor = pending.awaitingPaymentMethod ? "its payment method" : state.cartId.map { "cart \($0)'s checkout" } ?? "its products' prices"
                let field = pending.awaitingPaymentMethod ? "/paymentToken" : state.cartId == nil ? "/lines" : "/cartId"
                return try refuse(pending, orderId: orderId, PricingRefusal("the order could not be priced in time (\(waitedFor) went unanswered); place it again", field: field))
            }
            if let note { saga.note(note, at: now) }
            state.saga = saga
            guard let sagaInput else { return HandlerResult(state: .set(state)) }
            return try advance(state, saga, sagaInput, context)
        }
    }

    /// The order is priced: it starts at those prices (less a cart's discount), or is refused with the
    /// reason, and nothing is reserved or charged.
    private func start(
        _ state: OrderState,
        _ pending: PendingOrder,
        _ priced: PricedOrder,
        checkout: CartCheckout? = nil,
        orderId: String,
        _ context: HandlerContext
    ) throws -> HandlerResult<OrderState> {
        let started: (OrderSaga, [OrderSaga.Request])
        do throws(MoneyError) {
            started = try OrderSaga.start(
                orderId: orderId, lines: priced.lines, weightGrams: priced.weightGrams, discount: checkout?.discount, at: context.now, deadlines: deadlines
            )
        } catch {
            let refusal = PricingRefusal("the order cannot be priced: \(error)", field: checkout == nil ? "/lines" : "/cartId")
            return try refuse(pending, orderId: orderId, refusal, reopening: checkout)
        }
        let (saga, requests) = started
        var state = state
        state.saga = saga
        state.pending = nil
        let created = OrderCreated(
            orderId: orderId, customerId: state.customerId, lines: saga.lines, cartId: checkout?.cartId, couponCode: checkout?.couponCode,
            discount: checkout?.discount.flatMap { $0.amountMinor > 0 ? $0 : nil }, total: saga.total, shippingAddress: state.address, createdAt: context.now
        )
        var outputs = [try events.event(created)]
        outputs += try commands(for: requests, saga, state, context)
        outputs.append(try deadlineTimer(saga.orderId, at: saga.deadline, context))
        return HandlerResult(state: .set(state), outputs: outputs)
    }

    /// What prices the order: a quote per product, or the cart's checkout.
    private func pricingRequests(_ state: OrderState, orderId: String) throws -> [OutboundMessage] {
        let replies = ReplyAddress(topic: topics.cartReplies, key: orderId)
        if let cartId = state.cartId {
            let checkout = CheckoutCart(orderId: orderId, cartId: cartId, customerId: state.customerId)
            return [
                try events.internalMessage(topics.checkoutRequests, key: cartId, type: CheckoutCart.type, checkout)
                    .replying(to: replies)
            ]
        }
        return try (state.pending?.pricing?.productIds ?? []).map { productId in
            try events.internalMessage(topics.quoteRequests, key: productId, type: QuoteRequest.type, QuoteRequest(orderId: orderId, productId: productId))
                .replying(to: replies)
        }
    }

    /// Answers the waiting `CreateOrder` with the refusal and forgets the order.
    /// - Parameter reopening: the checkout that closed the order's cart, which opens again.
    private func refuse(
        _ pending: PendingOrder,
        orderId: String,
        _ refusal: PricingRefusal,
        reopening checkout: CartCheckout? = nil
    ) throws -> HandlerResult<OrderState> {
        let rejection = try events.rejection(
            commandId: pending.commandId, commandType: CreateOrder.typeName, aggregateId: orderId, reason: refusal.reason, field: refusal.field
        )
        var outputs = [rejection, try timers.cancel(timerID(orderId), key: orderId)]
        if let checkout { outputs.append(try reopen(checkout.cartId, for: orderId, because: "order \(orderId) was refused: \(refusal.reason)")) }
        return HandlerResult(state: .delete, outputs: outputs)
    }

    /// Opens a cart a checkout closed for an order that did not start, or failed or was cancelled,
    /// giving its coupon's use back.
    private func reopen(_ cartId: String, for orderId: String, because reason: String) throws -> OutboundMessage {
        try events.internalMessage(
            topics.checkoutRequests, key: cartId, type: ReopenCart.type, ReopenCart(orderId: orderId, cartId: cartId, reason: String(reason.prefix(1_000)))
        )
    }

    /// An answer for an order this saga has no state of. On Apache Kafka the other contexts only see
    /// commands of committed transactions, which committed the order's state too; the local broker
    /// also delivers those of aborted ones. Inventory acts on such a `ReserveStock` (its id then
    /// dedupes the copy the order's re-run sends, which gets no answer), so the reservation it
    /// answers with is released at once, or would stay held until it expires; the re-run order
    /// fails by its reservation deadline. Only reservations under this saga's own ids are touched.
    private func undoStray(_ answer: OrderSaga.Input?, _ context: HandlerContext) throws -> HandlerResult<OrderState> {
        guard case .reserved(let sku) = answer, let orderId = context.record.key else { return HandlerResult() }
        let release = ReleaseStock(reservationId: OrderSaga.reservationId(orderId: orderId, sku: sku), orderId: orderId, sku: sku)
        return HandlerResult(outputs: [
            try events.internalMessage(topics.reservations, key: sku, type: ReleaseStock.type, release)
                .replying(to: ReplyAddress(topic: topics.stockReplies, key: orderId))
        ])
    }

    /// Feeds one input to the saga and publishes what changed.
    private func advance(_ state: OrderState, _ saga: OrderSaga, _ input: OrderSaga.Input, _ context: HandlerContext) throws -> HandlerResult<OrderState> {
        var state = state
        let before = saga
        var saga = saga
        let requests = saga.handle(input, at: context.now)
        state.saga = saga
        var outputs = try commands(for: requests, saga, state, context)
        if saga.status != before.status {
            let orderId = saga.orderId
            switch saga.status {
            case .fulfilled:
                outputs.append(try events.event(OrderFulfilled(orderId: orderId, shipmentId: saga.shipmentId ?? saga.plannedShipmentId, fulfilledAt: context.now)))
            case .cancelled:
                outputs.append(try events.event(OrderCancelled(orderId: orderId, reason: saga.endReason ?? "cancelled", cancelledAt: context.now)))
            default:
                outputs.append(try events.event(OrderStatusUpdated(
                    orderId: orderId, previousStatus: before.status.rawValue, status: saga.status.rawValue, reason: saga.status == .failed ? saga.endReason : nil,
                    updatedAt: context.now
                )))
            }
            if saga.status.isTerminal {
                outputs.append(try timers.cancel(timerID(orderId), key: orderId))
            }
            // An order that checked a cart out and failed or was cancelled opens it again, its coupon's use given back.
            if saga.status == .failed || saga.status == .cancelled, let cartId = state.cartId {
                outputs.append(try reopen(cartId, for: orderId, because: "order \(orderId) \(saga.status.rawValue): \(saga.endReason ?? "")"))
            }
        }
        // A deadline that moved needs its timer; so does one whose timer just went off early (a clock
        // ahead of this one), as firing removed it.
        if !saga.status.isTerminal && (saga.deadline != before.deadline || input == .tick) {
            outputs.append(try deadlineTimer(saga.orderId, at: saga.deadline, context))
        }
        return HandlerResult(state: .set(state), outputs: outputs)
    }

    private var events: ContextOutputs { ContextOutputs(eventsTopic: topics.events) }
    private var timers: TimerClient { TimerClient(topic: topics.timers) }
    private func timerID(_ orderId: String) -> String { "order-saga:\(orderId)" }

    private func deadlineTimer(_ orderId: String, at deadline: Date, _ context: HandlerContext) throws -> OutboundMessage {
        try timers.schedule(
            timerID(orderId), at: deadline, key: orderId, deliver: DeadlineReached(orderId: orderId, deadline: deadline),
            type: DeadlineReached.type, to: topics.deadlines, correlationID: context.record.correlationID
        )
    }

    /// The saga's requests as commands to the other contexts, each asking for its answers here.
    private func commands(for requests: [OrderSaga.Request], _ saga: OrderSaga, _ state: OrderState, _ context: HandlerContext) throws -> [OutboundMessage] {
        let orderId = saga.orderId
        func message<Message: InternalMessage>(_ value: Message, key: String) throws -> OutboundMessage {
            try events.internalMessage(topics.reservations, key: key, type: Message.type, value)
                .replying(to: ReplyAddress(topic: topics.stockReplies, key: orderId))
        }
        func command<Command: TopicMessage>(_ value: Command, to topic: String, replies: String) throws -> OutboundMessage {
            OutboundMessage(topic: topic, key: value.key, type: Command.typeName, value: try value.encoded())
                .replying(to: ReplyAddress(topic: replies, key: orderId))
        }
        return try requests.map { request in
            switch request {
            case .reserve(let sku, let quantity, let id):
                return try message(ReserveStock(reservationId: id, orderId: orderId, sku: sku, quantity: quantity), key: sku)
            case .release(let sku, let id):
                return try message(ReleaseStock(reservationId: id, orderId: orderId, sku: sku), key: sku)
            case .confirm(let sku, let quantity, let id):
                return try message(ConfirmStock(reservationId: id, orderId: orderId, sku: sku, quantity: quantity), key: sku)
            case .returnStock(let sku, let quantity, let id):
                return try message(ReturnStock(reservationId: id, orderId: orderId, sku: sku, quantity: quantity), key: sku)
            case .processPayment(let paymentId, let amount):
                return try command(
                    ProcessPayment(paymentId: paymentId, orderId: orderId, customerId: state.customerId, amount: amount, paymentToken: state.paymentToken),
                    to: topics.payments, replies: topics.paymentReplies
                )
            case .refund(let paymentId, _):
                // What is left of the capture, not the total: refunds made before the cancel (goodwill,
                // a returned item) are not paid twice, and RefundCompleted says how much went back.
                return try command(
                    RefundPayment(paymentId: paymentId, refundId: "refund-\(orderId)", amount: nil, reason: saga.endReason),
                    to: topics.payments, replies: topics.paymentReplies
                )
            case .createShipment(let shipmentId):
                return try command(
                    CreateShipment(shipmentId: shipmentId, orderId: orderId, address: state.address, weightGrams: saga.parcelGrams, declaredValue: saga.total),
                    to: topics.shipping, replies: topics.shippingReplies
                )
            case .cancelShipment(let shipmentId):
                return try command(
                    UpdateShipmentStatus(shipmentId: shipmentId, status: ShipmentStatus.cancelled.rawValue, note: saga.endReason),
                    to: topics.shipping, replies: topics.shippingReplies
                )
            }
        }
    }

    private func reject(_ context: HandlerContext, _ type: String, _ orderId: String, _ reason: String, _ field: String) -> HandlerResult<OrderState> {
        events.rejected(commandId: context.record.id, commandType: type, aggregateId: orderId, reason: reason, field: field)
    }
}

/// One order as the saga keeps it: waiting for the catalog's prices, then its saga.
public struct OrderState: Codable, Sendable, Equatable {
    /// `nil` while the order is being priced.
    public var saga: OrderSaga?
    /// The order being priced (`nil` once its saga started).
    public var pending: PendingOrder?
    public var customerId: String
    public var paymentToken: String
    public var address: Address
    /// The cart the order checks out (or checked out).
    public var cartId: String?

    public init(saga: OrderSaga? = nil, pending: PendingOrder? = nil, customerId: String, paymentToken: String, address: Address, cartId: String? = nil) {
        self.saga = saga
        self.pending = pending
        self.customerId = customerId
        self.paymentToken = paymentToken
        self.address = address
        self.cartId = cartId
    }

    var statusName: String { saga?.status.rawValue ?? "being priced" }

    func stillPricing(_ orderId: String) -> String { "order \(orderId) is still being priced; try again once it is created" }
}

/// A `CreateOrder` waiting to be priced: the command to answer, until when, and what it waits for.
public struct PendingOrder: Codable, Sendable, Equatable {
    public var commandId: String
    public var deadline: Date
    /// The order's own lines and the catalog's answers so far (`nil`: a cart's checkout, `OrderState.cartId`).
    public var pricing: OrderPricing?
    /// Whether the payment token still waits for the customer's word that it is a method they saved.
    public var awaitingPaymentMethod: Bool
}
