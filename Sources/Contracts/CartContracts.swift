import Foundation

/// A cart's money figures, exact in minor units: total = subtotal - discount (never below zero).
public struct CartTotals: Codable, Sendable, Hashable {
    public var subtotal: Money
    public var discount: Money
    public var total: Money

    public init(subtotal: Money, discount: Money, total: Money) {
        self.subtotal = subtotal
        self.discount = discount
        self.total = total
    }

    static let schema = Schema.reference("CartTotals", .object([.init("subtotal", .money), .init("discount", .money), .init("total", .money)]))
    static let example = CartTotals(subtotal: Money(238_000, "VND"), discount: Money(23_800, "VND"), total: Money(214_200, "VND"))
}

public struct CreateCart: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "CreateCart"
    public static let kind = MessageKind.command
    public static let summary = "Opens an empty cart for a customer in one currency."

    public var cartId: String
    public var customerId: String
    public var currency: String
    public init(cartId: String, customerId: String, currency: String) {
        self.cartId = cartId
        self.customerId = customerId
        self.currency = currency
    }

    public var key: String { cartId }

    public static let schema = Schema.object([.init("cartId", .id()), .init("customerId", .id()), .init("currency", .string(.init(pattern: "^[A-Z]{3}$")))])
    public static let example = CreateCart(cartId: "cart-1", customerId: "cust-1", currency: "VND")
}

public struct AddItemToCart: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "AddItemToCart"
    public static let kind = MessageKind.command
    public static let summary = "Adds a product to a cart at the catalog's current price (or adds to its quantity)."

    public var cartId: String
    public var productId: String
    public var quantity: Int
    public init(cartId: String, productId: String, quantity: Int) {
        self.cartId = cartId
        self.productId = productId
        self.quantity = quantity
    }

    public var key: String { cartId }

    public static let schema = Schema.object([.init("cartId", .id()), .init("productId", .id()), .init("quantity", .integer(minimum: 1, maximum: 1000))])
    public static let example = AddItemToCart(cartId: "cart-1", productId: "prod-1", quantity: 2)
}

public struct RemoveItemFromCart: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "RemoveItemFromCart"
    public static let kind = MessageKind.command
    public static let summary = "Removes a product from a cart."

    public var cartId: String
    public var productId: String
    public init(cartId: String, productId: String) {
        self.cartId = cartId
        self.productId = productId
    }

    public var key: String { cartId }

    public static let schema = Schema.object([.init("cartId", .id()), .init("productId", .id())])
    public static let example = RemoveItemFromCart(cartId: "cart-1", productId: "prod-1")
}

public struct UpdateQuantity: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "UpdateQuantity"
    public static let kind = MessageKind.command
    public static let summary = "Sets the quantity of a product in a cart (0 removes it)."

    public var cartId: String
    public var productId: String
    public var quantity: Int
    public init(cartId: String, productId: String, quantity: Int) {
        self.cartId = cartId
        self.productId = productId
        self.quantity = quantity
    }

    public var key: String { cartId }

    public static let schema = Schema.object([.init("cartId", .id()), .init("productId", .id()), .init("quantity", .integer(minimum: 0, maximum: 1000))])
    public static let example = UpdateQuantity(cartId: "cart-1", productId: "prod-1", quantity: 3)
}

public struct ApplyCoupon: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "ApplyCoupon"
    public static let kind = MessageKind.command
    public static let summary = "Applies a coupon code to a cart (checked for validity window, minimum subtotal and usage limit)."

    public var cartId: String
    public var couponCode: String
    public init(cartId: String, couponCode: String) {
        self.cartId = cartId
        self.couponCode = couponCode
    }

    public var key: String { cartId }

    public static let schema = Schema.object([.init("cartId", .id()), .init("couponCode", .string(.init(minLength: 1, maxLength: 40, pattern: "^[A-Z0-9_-]+$")))])
    public static let example = ApplyCoupon(cartId: "cart-1", couponCode: "TEA10")
}

public struct CartCreated: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "CartCreated"
    public static let kind = MessageKind.event
    public static let summary = "A cart was opened."

    public var cartId: String
    public var customerId: String
    public var currency: String
    public var createdAt: Date
    public init(cartId: String, customerId: String, currency: String, createdAt: Date) {
        self.cartId = cartId
        self.customerId = customerId
        self.currency = currency
        self.createdAt = createdAt
    }

    public var key: String { cartId }

    public static let schema = Schema.object([
        .init("cartId", .id()), .init("customerId", .id()), .init("currency", .string(.init(pattern: "^[A-Z]{3}$"))), .init("createdAt", .timestamp),
    ])
    public static let example = CartCreated(cartId: "cart-1", customerId: "cust-1", currency: "VND", createdAt: Date(timeIntervalSince1970: 1_795_003_000))
}

public struct ItemAdded: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "ItemAdded"
    public static let kind = MessageKind.event
    public static let summary = "A product was added to a cart; carries its price then and the cart's totals after."

    public var cartId: String
    public var productId: String
    public var sku: String
    public var name: String
    public var quantity: Int
    public var unitPrice: Money
    public var totals: CartTotals
    public init(
        cartId: String,
        productId: String,
        sku: String,
        name: String,
        quantity: Int,
        unitPrice: Money,
        totals: CartTotals
    ) {
        self.cartId = cartId
        self.productId = productId
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.totals = totals
    }

    public var key: String { cartId }

    public static let schema = Schema.object([
        .init("cartId", .id()), .init("productId", .id()), .init("sku", .id()), .init("name", .text(max: 200, min: 1)),
        .init("quantity", .integer(minimum: 1)), .init("unitPrice", .money), .init("totals", CartTotals.schema),
    ])
    public static let example = ItemAdded(
        cartId: "cart-1", productId: "prod-1", sku: "TEA-OOLONG-100", name: "Oolong tea 100 g", quantity: 2,
        unitPrice: Money(119_000, "VND"), totals: CartTotals(subtotal: Money(238_000, "VND"), discount: Money(0, "VND"), total: Money(238_000, "VND"))
    )
}

public struct ItemRemoved: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "ItemRemoved"
    public static let kind = MessageKind.event
    public static let summary = "A product was removed from a cart."

    public var cartId: String
    public var productId: String
    public var totals: CartTotals
    public init(cartId: String, productId: String, totals: CartTotals) {
        self.cartId = cartId
        self.productId = productId
        self.totals = totals
    }

    public var key: String { cartId }

    public static let schema = Schema.object([.init("cartId", .id()), .init("productId", .id()), .init("totals", CartTotals.schema)])
    public static let example = ItemRemoved(
        cartId: "cart-1", productId: "prod-1", totals: CartTotals(subtotal: Money(0, "VND"), discount: Money(0, "VND"), total: Money(0, "VND"))
    )
}

public struct QuantityUpdated: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "QuantityUpdated"
    public static let kind = MessageKind.event
    public static let summary = "The quantity of a product in a cart changed."

    public var cartId: String
    public var productId: String
    public var quantity: Int
    public var totals: CartTotals
    public init(cartId: String, productId: String, quantity: Int, totals: CartTotals) {
        self.cartId = cartId
        self.productId = productId
        self.quantity = quantity
        self.totals = totals
    }

    public var key: String { cartId }

    public static let schema = Schema.object([
        .init("cartId", .id()), .init("productId", .id()), .init("quantity", .integer(minimum: 1)), .init("totals", CartTotals.schema),
    ])
    public static let example = QuantityUpdated(cartId: "cart-1", productId: "prod-1", quantity: 3, totals: .example)
}

public struct CouponApplied: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "CouponApplied"
    public static let kind = MessageKind.event
    public static let summary = "A coupon now applies to a cart; carries the discount and the totals after."

    public var cartId: String
    public var couponCode: String
    public var discount: Money
    public var totals: CartTotals
    public init(cartId: String, couponCode: String, discount: Money, totals: CartTotals) {
        self.cartId = cartId
        self.couponCode = couponCode
        self.discount = discount
        self.totals = totals
    }

    public var key: String { cartId }

    public static let schema = Schema.object([
        .init("cartId", .id()), .init("couponCode", .id()), .init("discount", .money), .init("totals", CartTotals.schema),
    ])
    public static let example = CouponApplied(cartId: "cart-1", couponCode: "TEA10", discount: Money(23_800, "VND"), totals: .example)
}

/// A cart's line as its events carry it whole.
public struct CartLine: Codable, Sendable, Hashable {
    public var productId: String
    public var sku: String
    public var name: String
    public var quantity: Int
    public var unitPrice: Money

    public init(productId: String, sku: String, name: String, quantity: Int, unitPrice: Money) {
        self.productId = productId
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.unitPrice = unitPrice
    }

    static let schema = Schema.reference(
        "CartLine",
        .object([
            .init("productId", .id()), .init("sku", .id()), .init("name", .text(max: 200, min: 1)), .init("quantity", .integer(minimum: 1, maximum: 10_000)),
            .init("unitPrice", .money),
        ])
    )
    static let example = CartLine(productId: "prod-1", sku: "TEA-OOLONG-100", name: "Oolong 100 g", quantity: 2, unitPrice: Money(119_000, "VND"))
}

public struct CartRevised: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "CartRevised"
    public static let kind = MessageKind.event
    public static let summary = "A checkout found the cart out of date (a price changed, a product left the catalog, its coupon was used up) and refused; the cart now shows what a next checkout charges. Carries the cart whole."

    public var cartId: String
    public var lines: [CartLine]
    public var couponCode: String?
    public var totals: CartTotals
    public var reason: String
    public var revisedAt: Date
    public init(cartId: String, lines: [CartLine], couponCode: String? = nil, totals: CartTotals, reason: String, revisedAt: Date) {
        self.cartId = cartId
        self.lines = lines
        self.couponCode = couponCode
        self.totals = totals
        self.reason = reason
        self.revisedAt = revisedAt
    }

    public var key: String { cartId }

    public static let schema = Schema.object([
        .init("cartId", .id()), .init("lines", .array(CartLine.schema, maxItems: 100)), .init("couponCode", .id(), required: false),
        .init("totals", CartTotals.schema), .init("reason", .text(max: 2000, min: 1)), .init("revisedAt", .timestamp),
    ])
    public static let example = CartRevised(
        cartId: "cart-1", lines: [.example], totals: CartTotals(subtotal: Money(238_000, "VND"), discount: Money(0, "VND"), total: Money(238_000, "VND")),
        reason: "the price of TEA-OOLONG-100 changed from 99000 to 119000 VND", revisedAt: Date(timeIntervalSince1970: 1_795_000_900)
    )
}

public struct CartCheckedOut: TopicMessage {
    public static let context = BoundedContext.cart
    public static let name = "CartCheckedOut"
    public static let kind = MessageKind.event
    public static let summary = "A cart was checked out by an order at the totals it showed (its coupon's use counted); it takes no more changes."

    public var cartId: String
    public var orderId: String
    public var couponCode: String?
    public var totals: CartTotals
    public var checkedOutAt: Date
    public init(cartId: String, orderId: String, couponCode: String? = nil, totals: CartTotals, checkedOutAt: Date) {
        self.cartId = cartId
        self.orderId = orderId
        self.couponCode = couponCode
        self.totals = totals
        self.checkedOutAt = checkedOutAt
    }

    public var key: String { cartId }

    public static let schema = Schema.object([
        .init("cartId", .id()), .init("orderId", .id()), .init("couponCode", .id(), required: false), .init("totals", CartTotals.schema),
        .init("checkedOutAt", .timestamp),
    ])
    public static let example = CartCheckedOut(cartId: "cart-1", orderId: "order-1", couponCode: "TEA10", totals: .example, checkedOutAt: Date(timeIntervalSince1970: 1_795_001_000))
}

public struct GetCart: Contract {
    public static let context = BoundedContext.cart
    public static let name = "GetCart"
    public static let kind = MessageKind.query
    public static let summary = "A cart with its items, coupon and totals (GET /api/carts/:id)."
    public var cartId: String
    public init(cartId: String) {
        self.cartId = cartId
    }

    public static let schema = Schema.object([.init("cartId", .id())])
    public static let example = GetCart(cartId: "cart-1")
}

public struct GetCartTotal: Contract {
    public static let context = BoundedContext.cart
    public static let name = "GetCartTotal"
    public static let kind = MessageKind.query
    public static let summary = "A cart's subtotal, discount and total in minor units."
    public var cartId: String
    public init(cartId: String) {
        self.cartId = cartId
    }

    public static let schema = Schema.object([.init("cartId", .id())])
    public static let example = GetCartTotal(cartId: "cart-1")
}

public struct GetAppliedDiscounts: Contract {
    public static let context = BoundedContext.cart
    public static let name = "GetAppliedDiscounts"
    public static let kind = MessageKind.query
    public static let summary = "The coupons applied to a cart and what each takes off."
    public var cartId: String
    public init(cartId: String) {
        self.cartId = cartId
    }

    public static let schema = Schema.object([.init("cartId", .id())])
    public static let example = GetAppliedDiscounts(cartId: "cart-1")
}
