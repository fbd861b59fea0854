import Commerce
import Contracts
import Foundation
import RoleSupport
import Streams

// A checkout, on the cart's partition: every line is priced again by the catalog (on the products'
// partitions); a price that moved or a product gone refuses the checkout and the cart shows the
// new prices. Then the coupon's use is claimed on the coupon's partition, where uses are counted, so
// that of two carts wanting its last use exactly one gets it. Then the cart closes and the saga hears
// the lines, the discount and the total.
extension CartRole {
    func checkout(_ request: CheckoutCart, answeringTo address: ReplyAddress, _ state: inout CartState) throws -> HandlerResult<CartState> {
        func refuse(_ reason: String) throws -> HandlerResult<CartState> {
            HandlerResult(outputs: [try outputs.answer(CartCheckout(orderId: request.orderId, cartId: request.cartId, refusal: reason), to: address)])
        }
        guard let cart = state.cart else { return try refuse("unknown cart \(request.cartId)") }
        guard cart.customerId == request.customerId else { return try refuse("cart \(cart.cartId) belongs to another customer") }
        if let order = cart.checkedOutBy { return try refuse("cart \(cart.cartId) was already checked out by order \(order)") }
        if let pending = state.checkout { return try refuse("cart \(cart.cartId) is being checked out by order \(pending.orderId)") }
        if state.pendingCoupon != nil { return try refuse("a coupon is being applied to cart \(cart.cartId); check out once it is") }
        guard !cart.lines.isEmpty else { return try refuse("cart \(cart.cartId) is empty") }
        let pending = PendingCheckout(orderId: request.orderId, replyTo: address, marker: "checkout:\(request.orderId)")
        state.checkout = pending
        let requests = try cart.lines.map { line in
            try internalMessage(
                topics.priceRequests, key: line.productId, PriceRequest.type,
                PriceRequest(cartId: cart.cartId, productId: line.productId, quantity: line.quantity, commandId: pending.marker)
            )
        }
        return HandlerResult(state: .set(state), outputs: requests)
    }

    /// One line's price is in; once all are, the cart is either still what it showed (on to the
    /// coupon, or closed) or revised and the checkout refused.
    func checkoutPriced(_ reply: PriceReply, _ pending: PendingCheckout, _ state: inout CartState, _ context: HandlerContext) throws -> HandlerResult<CartState> {
        guard var cart = state.cart else { return HandlerResult() }
        var pending = pending
        if let product = reply.product {
            pending.quotes[reply.productId] = product
        } else if !pending.gone.contains(reply.productId) {
            pending.gone.append(reply.productId)
        }
        state.checkout = pending
        guard pending.answered(cart) else { return HandlerResult(state: .set(state)) }

        var changes: [String] = []
        for (index, line) in cart.lines.enumerated().reversed() {
            guard let product = pending.quotes[line.productId], product.price.currency == cart.currency else {
                let why = pending.quotes[line.productId].map { "is now priced in \($0.price.currency), the cart in \(cart.currency)," } ?? "is no longer sold"
                changes.append("\(line.sku) \(why) and left the cart")
                cart.lines.remove(at: index)
                continue
            }
            if product.price != line.unitPrice {
                changes.append("the price of \(line.sku) changed from \(line.unitPrice.amountMinor) to \(product.price.amountMinor) \(cart.currency)")
                cart.lines[index].unitPrice = product.price
            }
        }
        changes.reverse()
        if !changes.isEmpty { return try revise(cart, because: changes.joined(separator: "; "), pending, &state, context) }
        guard let coupon = cart.coupon, cart.couponUseCounted == false else { return try close(cart, pending, &state, context) }
        pending.claimedAt = context.now
        state.checkout = pending
        let claim = CouponClaim(
            cartId: cart.cartId, couponCode: coupon.code, subtotal: try cart.subtotal(), commandId: pending.marker, customerId: cart.customerId, use: true
        )
        return HandlerResult(state: .set(state), outputs: [try internalMessage(topics.couponClaims, key: coupon.code, CouponClaim.type, claim)])
    }

    /// The coupon's partition counted the use (the cart closes), or refused it (the coupon leaves the
    /// cart and the checkout is refused).
    func checkoutCouponDecided(_ decision: CouponDecision, _ pending: PendingCheckout, _ state: inout CartState, _ context: HandlerContext) throws -> HandlerResult<CartState> {
        guard var cart = state.cart else { return HandlerResult() }
        guard let coupon = decision.coupon else {
            cart.coupon = nil
            return try revise(cart, because: "coupon \(decision.couponCode) no longer applies: \(decision.refusal ?? "refused")", pending, &state, context)
        }
        cart.coupon = coupon
        return try close(cart, pending, &state, context)
    }

    /// The checkout is refused with what changed; the cart shows what a next checkout would charge.
    private func revise(_ cart: Cart, because reason: String, _ pending: PendingCheckout, _ state: inout CartState, _ context: HandlerContext) throws -> HandlerResult<CartState> {
        state.checkout = nil
        func refusal(_ why: String) -> CartCheckout { CartCheckout(orderId: pending.orderId, cartId: cart.cartId, refusal: why) }
        guard let totals = try? cart.totals(at: context.now) else {
            // New prices that take the total out of range: the cart stays as it was, and says why not.
            let outOfRange = refusal("cart \(cart.cartId)'s total is out of range at today's prices")
            return HandlerResult(state: .set(state), outputs: [try outputs.answer(outOfRange, to: pending.replyTo)])
        }
        let changed = refusal("cart \(cart.cartId) changed since it was shown (\(reason)); check out again to pay what it shows now")
        state.cart = cart
        let revised = CartRevised(
            cartId: cart.cartId, lines: cart.lines, couponCode: cart.coupon?.code, totals: totals, reason: reason.clipped(to: 2_000), revisedAt: context.now
        )
        return HandlerResult(state: .set(state), outputs: [try checkoutEvent(revised, context), try outputs.answer(changed, to: pending.replyTo)])
    }

    private func close(_ cart: Cart, _ pending: PendingCheckout, _ state: inout CartState, _ context: HandlerContext) throws -> HandlerResult<CartState> {
        var cart = cart
        // The discount the coupon's partition granted, at the time it was asked: a coupon that expired
        // since still takes off what its use was counted for.
        let totals = try cart.totals(at: pending.claimedAt ?? context.now)
        cart.checkedOutBy = pending.orderId
        state.cart = cart
        state.checkout = nil
        let lines = cart.lines.map {
            OrderLine(productId: $0.productId, sku: $0.sku, quantity: $0.quantity, unitPrice: $0.unitPrice, priceSource: OrderLine.catalogPrice)
        }
        let checkout = CartCheckout(
            orderId: pending.orderId, cartId: cart.cartId, lines: lines, weightGrams: pending.quotes.compactMapValues(\.weightGrams),
            discount: totals.discount, total: totals.total, couponCode: cart.coupon?.code
        )
        let event = CartCheckedOut(cartId: cart.cartId, orderId: pending.orderId, couponCode: cart.coupon?.code, totals: totals, checkedOutAt: context.now)
        return HandlerResult(state: .set(state), outputs: [try checkoutEvent(event, context), try outputs.answer(checkout, to: pending.replyTo)])
    }

    /// A checkout's event starts a chain of its own (its causation still leads back to the order):
    /// the first public event of a command's chain is taken as that command's outcome, and the
    /// `CreateOrder`'s is the order's own (`OrderCreated`, or its rejection).
    func checkoutEvent<Event: TopicMessage>(_ event: Event, _ context: HandlerContext) throws -> OutboundMessage {
        var message = try emit(event)
        message.correlationID = context.record.id
        return message
    }

    /// The order the cart was checked out for did not start: the cart takes changes again and its
    /// coupon's use is given back on the coupon's partition.
    func reopen(_ request: ReopenCart, _ state: inout CartState, _ context: HandlerContext) throws -> HandlerResult<CartState> {
        guard var cart = state.cart, cart.checkedOutBy == request.orderId else { return HandlerResult() }
        cart.checkedOutBy = nil
        state.cart = cart
        let revised = CartRevised(
            cartId: cart.cartId, lines: cart.lines, couponCode: cart.coupon?.code, totals: try cart.totals(at: context.now),
            reason: "\(request.reason); the cart is open again".clipped(to: 2_000), revisedAt: context.now
        )
        var outputs = [try checkoutEvent(revised, context)]
        if let coupon = cart.coupon {
            let release = CouponRelease(cartId: cart.cartId, couponCode: coupon.code, customerId: cart.customerId)
            outputs.append(try internalMessage(topics.couponClaims, key: coupon.code, CouponRelease.type, release))
        }
        return HandlerResult(state: .set(state), outputs: outputs)
    }
}
