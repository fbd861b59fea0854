import Commerce
import Contracts
import Foundation
import RoleSupport

/// A cart asks the product's partition for its current price.
public struct PriceRequest: Codable, Sendable, Equatable {
    static let type = "souk.cart.PriceRequest.v1"
    var cartId: String
    var productId: String
    var quantity: Int
    var commandId: String
}

/// The product's answer: its price, or that it cannot be sold.
public struct PriceReply: Codable, Sendable, Equatable {
    static let type = "souk.cart.PriceReply.v1"
    var cartId: String
    var productId: String
    var quantity: Int
    var commandId: String
    var product: ProductPrice?
}

/// A cart claims one use of a coupon on the coupon's partition, where its uses are counted.
public struct CouponClaim: Codable, Sendable, Equatable {
    static let type = "souk.cart.CouponClaim.v1"
    var cartId: String
    var couponCode: String
    var subtotal: Money
    var commandId: String
    /// Whose cart, for a per-customer limit (absent in claims written before there was one).
    var customerId: String?
    /// Whether the claim uses the coupon (a checkout) or only checks it (applying it to a cart).
    var use: Bool?
}

/// A use counted for a checkout whose order did not start is given back.
public struct CouponRelease: Codable, Sendable, Equatable {
    static let type = "souk.cart.CouponRelease.v1"
    var cartId: String
    var couponCode: String
    var customerId: String?
}

public struct CouponDecision: Codable, Sendable, Equatable {
    static let type = "souk.cart.CouponDecision.v1"
    var cartId: String
    var couponCode: String
    var commandId: String
    /// The coupon's terms when granted.
    var coupon: Coupon?
    var refusal: String?
}

/// What the cart role knows of a product, from the catalog's events.
public struct ProductPrice: Codable, Sendable, Equatable {
    public var productId: String
    public var sku: String
    public var name: String
    public var price: Money
    public var deleted: Bool
    /// From the catalog's events (absent for products created without one, or before it was kept).
    public var weightGrams: Int?
}

public enum CartInput: Sendable, Equatable {
    case create(CreateCart)
    case add(AddItemToCart)
    case remove(RemoveItemFromCart)
    case quantity(UpdateQuantity)
    case applyCoupon(ApplyCoupon)
    case productCreated(ProductCreated)
    case productUpdated(ProductUpdated)
    case priceChanged(PriceChanged)
    case productDeleted(ProductDeleted)
    case priceRequest(PriceRequest)
    case priceReply(PriceReply)
    /// The order saga's lookup, with where to answer.
    case quoteRequest(QuoteRequest, replyTo: ReplyAddress?)
    /// The order saga checks the cart out, with where to answer.
    case checkout(CheckoutCart, replyTo: ReplyAddress?)
    /// The saga's order did not start: the cart it closed opens again.
    case reopen(ReopenCart)
    case couponRelease(CouponRelease)
    case couponClaim(CouponClaim)
    case couponDecision(CouponDecision)
    /// An event on a consumed topic that carts do not care about.
    case ignored
}

/// State of `cart:<id>`, `product:<id>` (its price) or `coupon:<code>` (its uses).
public struct CartState: Codable, Sendable, Equatable {
    public var cart: Cart?
    public var product: ProductPrice?
    public var couponUses: Int?
    /// On a coupon's partition: redemptions per customer.
    public var couponUsesByCustomer: [String: Int]?
    /// On a cart's partition: the ApplyCoupon whose claim is out, so that a second one waits its turn
    /// (the check and the claim are one decision).
    public var pendingCoupon: String?
    /// On a cart's partition: the checkout under way.
    public var checkout: PendingCheckout?
}

/// A cart's checkout while the catalog prices its lines and its coupon's use is claimed.
public struct PendingCheckout: Codable, Sendable, Equatable {
    var orderId: String
    var replyTo: ReplyAddress
    /// The id its price requests and coupon claim carry, to tell their answers from a command's.
    var marker: String
    /// The catalog's answer per product of the cart so far.
    var quotes: [String: ProductPrice] = [:]
    /// Products the catalog no longer sells.
    var gone: [String] = []
    /// When the coupon's use was claimed.
    var claimedAt: Date?

    func answered(_ cart: Cart) -> Bool { cart.lines.allSatisfy { quotes[$0.productId] != nil || gone.contains($0.productId) } }
}
