import Commerce
import Contracts
import Foundation
import JSONCodec
import RoleSupport
import Streams

/// Carts: items at the catalog's current price, quantities, coupons, exact totals.
///
/// The cart role learns prices from the catalog's events (kept per product on the product's
/// partition) and asks for one through a repartition topic when an item is added, so carts never call
/// another service. Coupon uses are counted on the coupon's partition, so a usage limit holds across
/// every cart.
public struct CartRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics
    public let coupons: [String: Coupon]

    public struct Topics: Sendable {
        public var commands = "souk.cart.commands.v1"
        public var events = "souk.cart.events.v1"
        public var productEvents = "souk.product.events.v1"
        public var priceRequests = "souk.cart.price-requests.v1"
        public var priceReplies = "souk.cart.price-replies.v1"
        /// The order saga's price lookups, answered on the reply address each carries.
        public var quoteRequests = "souk.cart.quote-requests.v1"
        /// The order saga's checkouts, answered on the reply address each carries.
        public var checkoutRequests = "souk.cart.checkout-requests.v1"
        public var couponClaims = "souk.cart.coupon-claims.v1"
        public var couponDecisions = "souk.cart.coupon-decisions.v1"
        public init() {}
    }

    public init(name: String = "cart", coupons: [Coupon], topics: Topics = Topics()) {
        self.name = name
        self.coupons = Dictionary(coupons.map { ($0.code, $0) }, uniquingKeysWith: { _, last in last })
        self.topics = topics
    }

    public var inputTopics: [String] {
        [topics.commands, topics.productEvents, topics.priceRequests, topics.priceReplies, topics.couponClaims, topics.couponDecisions, topics.quoteRequests,
            topics.checkoutRequests,
        ]
    }

    public func stateKey(for record: InboundRecord) -> String {
        switch record.topic {
        case topics.productEvents, topics.priceRequests, topics.quoteRequests: "product:\(record.stateKey)"
        case topics.couponClaims: "coupon:\(record.stateKey)"
        default: "cart:\(record.stateKey)"
        }
    }

    public func decode(_ record: InboundRecord) throws -> CartInput {
        guard let type = record.type else { throw PoisonMessage("missing ce_type header") }
        let bytes = record.value ?? []
        func json<T: Decodable>(_: T.Type) throws -> T { try SoukJSON.decode(T.self, from: bytes) }
        switch type {
        case CreateCart.typeName: return .create(try ContractCodec.decode(CreateCart.self, bytes))
        case AddItemToCart.typeName: return .add(try ContractCodec.decode(AddItemToCart.self, bytes))
        case RemoveItemFromCart.typeName: return .remove(try ContractCodec.decode(RemoveItemFromCart.self, bytes))
        case UpdateQuantity.typeName: return .quantity(try ContractCodec.decode(UpdateQuantity.self, bytes))
        case ApplyCoupon.typeName: return .applyCoupon(try ContractCodec.decode(ApplyCoupon.self, bytes))
        case ProductCreated.typeName: return .productCreated(try ContractCodec.decode(ProductCreated.self, bytes))
        case ProductUpdated.typeName: return .productUpdated(try ContractCodec.decode(ProductUpdated.self, bytes))
        case PriceChanged.typeName: return .priceChanged(try ContractCodec.decode(PriceChanged.self, bytes))
        case ProductDeleted.typeName: return .productDeleted(try ContractCodec.decode(ProductDeleted.self, bytes))
        case PriceRequest.type: return .priceRequest(try json(PriceRequest.self))
        case PriceReply.type: return .priceReply(try json(PriceReply.self))
        case QuoteRequest.type: return .quoteRequest(try json(QuoteRequest.self), replyTo: ReplyAddress(record))
        case CheckoutCart.type: return .checkout(try json(CheckoutCart.self), replyTo: ReplyAddress(record))
        case ReopenCart.type: return .reopen(try json(ReopenCart.self))
        case CouponRelease.type: return .couponRelease(try json(CouponRelease.self))
        case CouponClaim.type: return .couponClaim(try json(CouponClaim.self))
        case CouponDecision.type: return .couponDecision(try json(CouponDecision.self))
        default:
            if record.topic == topics.productEvents { return .ignored }
            throw PoisonMessage("the cart role does not handle \(type)")
        }
    }

    public func handle(_ input: CartInput, state: CartState?, context: HandlerContext) throws -> HandlerResult<CartState> {
        var state = state ?? CartState()
        let commandId = context.record.id
        switch input {
        case .ignored:
            return HandlerResult()

        // MARK: Catalog events, on the product's partition
        case .productCreated(let event):
            state.product = ProductPrice(
                productId: event.productId, sku: event.sku, name: event.name, price: event.price, deleted: false, weightGrams: event.weightGrams
            )
            return HandlerResult(state: .set(state))
        case .productUpdated(let event):
            state.product?.name = event.name
            if let weight = event.weightGrams { state.product?.weightGrams = weight }
            return HandlerResult(state: .set(state))
        case .priceChanged(let event):
            state.product?.price = event.newPrice
            return HandlerResult(state: .set(state))
        case .productDeleted:
            state.product?.deleted = true
            return HandlerResult(state: .set(state))
        case .priceRequest(let request):
            let product = state.product.flatMap { $0.deleted ? nil : $0 }
            let reply = PriceReply(cartId: request.cartId, productId: request.productId, quantity: request.quantity, commandId: request.commandId, product: product)
            return HandlerResult(outputs: [try internalMessage(topics.priceReplies, key: request.cartId, PriceReply.type, reply)])
        case .quoteRequest(let request, let address):
            guard let address else { return HandlerResult() }
            var quote = ProductQuote(orderId: request.orderId, productId: request.productId)
            switch state.product {
            case .none: quote.refusal = "product \(request.productId) is not in the catalog"
            case .some(let product) where product.deleted: quote.refusal = "product \(request.productId) is no longer sold"
            case .some(let product):
                quote.sku = product.sku
                quote.price = product.price
                quote.weightGrams = product.weightGrams
            }
            return HandlerResult(outputs: [try outputs.answer(quote, to: address)])

        // MARK: Coupons, on the coupon's partition
        case .couponClaim(let claim):
            let uses = state.couponUses ?? 0
            let customerUses = claim.customerId.flatMap { state.couponUsesByCustomer?[$0] } ?? 0
            var decision = CouponDecision(cartId: claim.cartId, couponCode: claim.couponCode, commandId: claim.commandId)
            let counted = claim.use == true
            if let coupon = coupons[claim.couponCode] {
                do {
                    _ = try coupon.discount(on: claim.subtotal, at: context.now, timesUsed: uses, timesUsedByCustomer: customerUses)
                    decision.coupon = coupon
                    // Only a checkout uses the coupon up; applying it to a cart only checks it.
                    if counted {
                        state.couponUses = uses + 1
                        if let customer = claim.customerId, coupon.perCustomerLimit != nil {
                            state.couponUsesByCustomer = (state.couponUsesByCustomer ?? [:]).merging([customer: customerUses + 1]) { $1 }
                        }
                    }
                } catch {
                    decision.refusal = error.description
                }
            } else {
                decision.refusal = "unknown coupon \(claim.couponCode)"
            }
            let output = try internalMessage(topics.couponDecisions, key: claim.cartId, CouponDecision.type, decision)
            return HandlerResult(state: decision.coupon == nil || !counted ? .unchanged : .set(state), outputs: [output])

        case .couponRelease(let release):
            guard let uses = state.couponUses, uses > 0 else { return HandlerResult() }
            state.couponUses = uses - 1
            if let customer = release.customerId, let used = state.couponUsesByCustomer?[customer], used > 0 {
                state.couponUsesByCustomer?[customer] = used - 1
            }
            return HandlerResult(state: .set(state))

        // MARK: Checkout, on the cart's partition
        case .checkout(let request, let address):
            guard let address else { return HandlerResult() }
            return try checkout(request, answeringTo: address, &state)
        case .reopen(let request):
            return try reopen(request, &state, context)

        // MARK: Carts
        case .create(let command):
            if let customer = context.record.actingCustomer, customer != command.customerId {
                return reject(commandId, command, "a customer may create carts only for itself", field: "/customerId")
            }
            if state.cart != nil { return reject(commandId, command, "cart \(command.cartId) already exists", field: "/cartId") }
            state.cart = Cart(cartId: command.cartId, customerId: command.customerId, currency: command.currency)
            let event = CartCreated(cartId: command.cartId, customerId: command.customerId, currency: command.currency, createdAt: context.now)
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .add(let command):
            guard let cart = state.cart else { return reject(commandId, command, "unknown cart \(command.cartId)", field: "/cartId") }
            if let refusal = refusal(cart, command, state, context) { return refusal }
            let request = PriceRequest(cartId: command.cartId, productId: command.productId, quantity: command.quantity, commandId: commandId)
            return HandlerResult(outputs: [try internalMessage(topics.priceRequests, key: command.productId, PriceRequest.type, request)])

        case .priceReply(let reply):
            if let pending = state.checkout, pending.marker == reply.commandId { return try checkoutPriced(reply, pending, &state, context) }
            guard var cart = state.cart else { return HandlerResult() }
            let command = AddItemToCart(cartId: reply.cartId, productId: reply.productId, quantity: reply.quantity)
            if let closed = closedRefusal(state) { return reject(reply.commandId, command, closed, field: "/cartId") }
            guard let product = reply.product else {
                return reject(reply.commandId, command, "product \(reply.productId) is unknown or no longer sold", field: "/productId")
            }
            guard product.price.currency == cart.currency else {
                return reject(reply.commandId, command, "product is priced in \(product.price.currency), the cart in \(cart.currency)", field: "/productId")
            }
            do throws(Cart.LimitError) {
                try cart.add(Cart.Line(productId: product.productId, sku: product.sku, name: product.name, quantity: reply.quantity, unitPrice: product.price))
            } catch {
                return reject(reply.commandId, command, error.description, field: "/quantity")
            }
            let line = cart.lines.first { $0.productId == product.productId }!
            state.cart = cart
            let event = ItemAdded(
                cartId: cart.cartId, productId: product.productId, sku: product.sku, name: product.name, quantity: line.quantity,
                unitPrice: line.unitPrice, totals: try cart.totals(at: context.now)
            )
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .remove(let command):
            guard var cart = state.cart else { return reject(commandId, command, "unknown cart \(command.cartId)", field: "/cartId") }
            if let refusal = refusal(cart, command, state, context) { return refusal }
            guard try cart.setQuantity(0, of: command.productId) else {
                return reject(commandId, command, "product \(command.productId) is not in the cart", field: "/productId")
            }
            state.cart = cart
            let event = ItemRemoved(cartId: cart.cartId, productId: command.productId, totals: try cart.totals(at: context.now))
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .quantity(let command):
            guard var cart = state.cart else { return reject(commandId, command, "unknown cart \(command.cartId)", field: "/cartId") }
            if let refusal = refusal(cart, command, state, context) { return refusal }
            let found: Bool
            do throws(Cart.LimitError) {
                found = try cart.setQuantity(command.quantity, of: command.productId)
            } catch {
                return reject(commandId, command, error.description, field: "/quantity")
            }
            guard found else {
                return reject(commandId, command, "product \(command.productId) is not in the cart", field: "/productId")
            }
            state.cart = cart
            let totals = try cart.totals(at: context.now)
            let output: OutboundMessage =
                command.quantity == 0
                ? try emit(ItemRemoved(cartId: cart.cartId, productId: command.productId, totals: totals))
                : try emit(QuantityUpdated(cartId: cart.cartId, productId: command.productId, quantity: command.quantity, totals: totals))
            return HandlerResult(state: .set(state), outputs: [output])

        case .applyCoupon(let command):
            guard let cart = state.cart else { return reject(commandId, command, "unknown cart \(command.cartId)", field: "/cartId") }
            if let refusal = refusal(cart, command, state, context) { return refusal }
            if let applied = cart.coupon {
                return reject(commandId, command, "coupon \(applied.code) is already applied", field: "/couponCode")
            }
            if state.pendingCoupon != nil {
                return reject(commandId, command, "another coupon is being applied to cart \(cart.cartId); retry after its outcome", field: "/couponCode")
            }
            let subtotal: Money
            do throws(MoneyError) {
                subtotal = try cart.subtotal()
            } catch {
                return reject(commandId, command, "the cart's total is out of range (\(error))", field: "/couponCode")
            }
            let claim = CouponClaim(cartId: cart.cartId, couponCode: command.couponCode, subtotal: subtotal, commandId: commandId, customerId: cart.customerId)
            state.pendingCoupon = commandId
            return HandlerResult(state: .set(state), outputs: [try internalMessage(topics.couponClaims, key: command.couponCode, CouponClaim.type, claim)])

        case .couponDecision(let decision):
            if let pending = state.checkout, pending.marker == decision.commandId { return try checkoutCouponDecided(decision, pending, &state, context) }
            guard var cart = state.cart else { return HandlerResult() }
            if state.pendingCoupon == decision.commandId { state.pendingCoupon = nil }
            let command = ApplyCoupon(cartId: decision.cartId, couponCode: decision.couponCode)
            guard let coupon = decision.coupon else {
                var refused = reject(decision.commandId, command, decision.refusal ?? "coupon refused", field: "/couponCode")
                refused.state = .set(state)  // the claim is answered: the next ApplyCoupon may go
                return refused
            }
            cart.coupon = coupon
            cart.couponUseCounted = false
            state.cart = cart
            let totals = try cart.totals(at: context.now)
            let event = CouponApplied(cartId: cart.cartId, couponCode: coupon.code, discount: totals.discount, totals: totals)
            return HandlerResult(state: .set(state), outputs: [try emit(event)])
        }
    }

    /// A customer's command on a cart that is not theirs changes nothing (operators' commands carry no
    /// customer), nor does any command on a cart checked out or being checked out.
    private func refusal<Command: TopicMessage>(_ cart: Cart, _ command: Command, _ state: CartState, _ context: HandlerContext) -> HandlerResult<CartState>? {
        if let customer = context.record.actingCustomer, customer != cart.customerId {
            return reject(context.record.id, command, "cart \(cart.cartId) belongs to another customer", field: "/cartId")
        }
        if let closed = closedRefusal(state) { return reject(context.record.id, command, closed, field: "/cartId") }
        return nil
    }

    /// Why a cart takes no changes now, if it does not.
    private func closedRefusal(_ state: CartState) -> String? {
        guard let cart = state.cart else { return nil }
        if let order = cart.checkedOutBy { return "cart \(cart.cartId) was checked out by order \(order)" }
        if let pending = state.checkout { return "cart \(cart.cartId) is being checked out by order \(pending.orderId)" }
        return nil
    }

    // MARK: - Outputs

    var outputs: ContextOutputs { ContextOutputs(eventsTopic: topics.events) }

    func emit<Event: TopicMessage>(_ event: Event) throws -> OutboundMessage { try outputs.event(event) }

    private func reject<Command: TopicMessage>(_ commandId: String, _ command: Command, _ reason: String, field: String?) -> HandlerResult<CartState> {
        outputs.rejected(commandId: commandId, commandType: Command.typeName, aggregateId: command.key, reason: reason, field: field)
    }

    func internalMessage<Message: Encodable>(_ topic: String, key: String, _ type: String, _ message: Message) throws -> OutboundMessage {
        try outputs.internalMessage(topic, key: key, type: type, message)
    }
}
