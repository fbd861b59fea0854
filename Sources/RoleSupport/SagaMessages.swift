import Contracts
import Foundation

// The order saga and the inventory talk over two internal topics: requests keyed by SKU to the
// inventory's reservations topic, answers keyed by order id to the saga's replies topic.

public struct ReserveStock: InternalMessage, Equatable {
    public static let type = "souk.inventory.ReserveStock.v1"
    public var reservationId: String
    public var orderId: String
    public var sku: String
    public var quantity: Int
    public init(reservationId: String, orderId: String, sku: String, quantity: Int) {
        self.reservationId = reservationId
        self.orderId = orderId
        self.sku = sku
        self.quantity = quantity
    }
}

public struct ReleaseStock: InternalMessage, Equatable {
    public static let type = "souk.inventory.ReleaseStock.v1"
    public var reservationId: String
    public var orderId: String
    public var sku: String
    public init(reservationId: String, orderId: String, sku: String) {
        self.reservationId = reservationId
        self.orderId = orderId
        self.sku = sku
    }
}

/// The order is paid: the reservation becomes a sale (or, when it expired meanwhile, the stock is sold
/// directly if it is still there).
public struct ConfirmStock: InternalMessage, Equatable {
    public static let type = "souk.inventory.ConfirmStock.v1"
    public var reservationId: String
    public var orderId: String
    public var sku: String
    public var quantity: Int
    public init(reservationId: String, orderId: String, sku: String, quantity: Int) {
        self.reservationId = reservationId
        self.orderId = orderId
        self.sku = sku
        self.quantity = quantity
    }
}

/// An order ended after payment: what it bought never left, so it is free to sell again.
public struct ReturnStock: InternalMessage, Equatable {
    public static let type = "souk.inventory.ReturnStock.v1"
    public var reservationId: String
    public var orderId: String
    public var sku: String
    public var quantity: Int
    public init(reservationId: String, orderId: String, sku: String, quantity: Int) {
        self.reservationId = reservationId
        self.orderId = orderId
        self.sku = sku
        self.quantity = quantity
    }
}

/// A reservation's timer went off (delivered by the timer role).
public struct ExpireReservation: InternalMessage, Equatable {
    public static let type = "souk.inventory.ExpireReservation.v1"
    public var reservationId: String
    public var sku: String
    public init(reservationId: String, sku: String) {
        self.reservationId = reservationId
        self.sku = sku
    }
}

/// The inventory's answers, keyed by order id.
public struct StockAnswer: InternalMessage, Equatable {
    public static let type = "souk.inventory.StockAnswer.v1"

    public enum Outcome: String, Codable, Sendable {
        case reserved, refused, confirmed, expired, released, returned
    }

    public var outcome: Outcome
    public var reservationId: String
    public var orderId: String
    public var sku: String
    public var quantity: Int
    public var reason: String?
    public init(outcome: Outcome, reservationId: String, orderId: String, sku: String, quantity: Int, reason: String? = nil) {
        self.outcome = outcome
        self.reservationId = reservationId
        self.orderId = orderId
        self.sku = sku
        self.quantity = quantity
        self.reason = reason
    }
}

/// A saga step's deadline passed (delivered by the timer role to the saga's replies topic).
public struct DeadlineReached: InternalMessage, Equatable {
    public static let type = "souk.order.DeadlineReached.v1"
    public var orderId: String
    public var deadline: Date
    public init(orderId: String, deadline: Date) {
        self.orderId = orderId
        self.deadline = deadline
    }
}

// The order saga prices an order's lines from the catalog's prices as the cart role keeps them (on
// each product's partition): a request keyed by product id, an answer keyed by order id.

/// The saga asks for a product's current price, SKU and weight.
public struct QuoteRequest: InternalMessage, Equatable {
    public static let type = "souk.cart.QuoteRequest.v1"
    public var orderId: String
    public var productId: String
    public init(orderId: String, productId: String) {
        self.orderId = orderId
        self.productId = productId
    }
}

/// A product as the catalog sells it now, or why it cannot be sold.
public struct ProductQuote: InternalMessage, Equatable {
    public static let type = "souk.cart.ProductQuote.v1"
    public var orderId: String
    public var productId: String
    public var sku: String?
    public var price: Money?
    public var weightGrams: Int?
    /// Set when the product cannot be ordered (unknown, deleted).
    public var refusal: String?
    public init(orderId: String, productId: String, sku: String? = nil, price: Money? = nil, weightGrams: Int? = nil, refusal: String? = nil) {
        self.orderId = orderId
        self.productId = productId
        self.sku = sku
        self.price = price
        self.weightGrams = weightGrams
        self.refusal = refusal
    }
}

/// The saga checks a cart out for an order: on the cart's partition, keyed by cart id.
public struct CheckoutCart: InternalMessage, Equatable {
    public static let type = "souk.cart.CheckoutCart.v1"
    public var orderId: String
    public var cartId: String
    /// The order's customer: only the cart's owner checks it out.
    public var customerId: String
    public init(orderId: String, cartId: String, customerId: String) {
        self.orderId = orderId
        self.cartId = cartId
        self.customerId = customerId
    }
}

/// The cart's answer: what it held at the catalog's current prices, its coupon's discount and the
/// total charged (the cart is closed), or why it cannot be checked out (it stays open).
public struct CartCheckout: InternalMessage, Equatable {
    public static let type = "souk.cart.CartCheckout.v1"
    public var orderId: String
    public var cartId: String
    public var lines: [OrderLine]
    /// Per product, its weight where the catalog has one.
    public var weightGrams: [String: Int]
    public var discount: Money?
    public var total: Money?
    public var couponCode: String?
    public var refusal: String?
    public init(
        orderId: String,
        cartId: String,
        lines: [OrderLine] = [],
        weightGrams: [String: Int] = [:],
        discount: Money? = nil,
        total: Money? = nil,
        couponCode: String? = nil,
        refusal: String? = nil
    ) {
        self.orderId = orderId
        self.cartId = cartId
        self.lines = lines
        self.weightGrams = weightGrams
        self.discount = discount
        self.total = total
        self.couponCode = couponCode
        self.refusal = refusal
    }
}

/// Whether a payment token is the customer's own saved method: on the customer's partition.
public struct PaymentMethodCheck: InternalMessage, Equatable {
    public static let type = "souk.customer.PaymentMethodCheck.v1"
    public var orderId: String
    public var customerId: String
    public var paymentToken: String
    public init(orderId: String, customerId: String, paymentToken: String) {
        self.orderId = orderId
        self.customerId = customerId
        self.paymentToken = paymentToken
    }
}

public struct PaymentMethodAnswer: InternalMessage, Equatable {
    public static let type = "souk.customer.PaymentMethodAnswer.v1"
    public var orderId: String
    /// Why the token may not be used (`nil`: it is the customer's own), and the command's field at fault.
    public var refusal: String?
    public var field: String?
    public init(orderId: String, refusal: String? = nil, field: String? = nil) {
        self.orderId = orderId
        self.refusal = refusal
        self.field = field
    }
}

/// A cart closed for an order that did not start opens again, and its coupon's use is given back.
public struct ReopenCart: InternalMessage, Equatable {
    public static let type = "souk.cart.ReopenCart.v1"
    public var orderId: String
    public var cartId: String
    public var reason: String
    public init(orderId: String, cartId: String, reason: String) {
        self.orderId = orderId
        self.cartId = cartId
        self.reason = reason
    }
}
