import Foundation

public struct OrderLine: Codable, Sendable, Hashable {
    public var productId: String
    public var sku: String
    public var quantity: Int
    public var unitPrice: Money
    /// Where the price came from: `catalog` (looked up when the order was placed) or `caller` (set by
    /// a trusted system principal). Absent in orders placed before prices were looked up.
    public var priceSource: String?

    public init(productId: String, sku: String, quantity: Int, unitPrice: Money, priceSource: String? = nil) {
        self.productId = productId
        self.sku = sku
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.priceSource = priceSource
    }

    public static let catalogPrice = "catalog"
    public static let callerPrice = "caller"

    static let schema = Schema.reference(
        "OrderLine",
        .object([
            .init("productId", .id()), .init("sku", .id()), .init("quantity", .integer(minimum: 1, maximum: 10_000)), .init("unitPrice", .money),
            .init(
                "priceSource", .oneOf([catalogPrice, callerPrice]), required: false,
                description: "catalog: the catalog's price when the order was placed; caller: set by a trusted system principal"
            ),
        ])
    )
}

/// A line as `CreateOrder` asks for it. The price is the catalog's: a `unitPrice` is honoured only in
/// a command from a trusted system principal (`souk_actor: system:<name>`, what an API key writes),
/// and ignored otherwise rather than rejected, so that a client echoing the prices it showed keeps
/// working; `OrderCreated` says what was charged and where each price came from.
public struct OrderItem: Codable, Sendable, Hashable {
    public var productId: String
    public var sku: String
    public var quantity: Int
    public var unitPrice: Money?

    public init(productId: String, sku: String, quantity: Int, unitPrice: Money? = nil) {
        self.productId = productId
        self.sku = sku
        self.quantity = quantity
        self.unitPrice = unitPrice
    }

    static let schema = Schema.reference(
        "OrderItem",
        .object([
            .init("productId", .id()), .init("sku", .id(), description: "must be the product's own SKU"),
            .init("quantity", .integer(minimum: 1, maximum: 10_000)),
            .init(
                "unitPrice", .money, required: false,
                description: "honoured only from a trusted system principal (an API key, or souk_actor: system:<name> on the topic); otherwise ignored: the catalog prices the order"
            ),
        ])
    )
}

/// Order states; `fulfilled`, `cancelled` and `failed` are terminal.
public let orderStatuses = ["created", "reserving", "awaiting_payment", "paid", "shipping", "fulfilled", "cancelled", "failed"]

public struct CreateOrder: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "CreateOrder"
    public static let kind = MessageKind.command
    public static let summary = "Places an order: the saga prices its lines from the catalog (a unitPrice counts only from a trusted system principal), reserves stock, takes payment and ships it."

    public var orderId: String
    public var customerId: String
    public var cartId: String?
    public var lines: [OrderItem]
    public var shippingAddress: Address
    public var paymentToken: String
    public init(
        orderId: String,
        customerId: String,
        cartId: String? = nil,
        lines: [OrderItem],
        shippingAddress: Address,
        paymentToken: String
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.cartId = cartId
        self.lines = lines
        self.shippingAddress = shippingAddress
        self.paymentToken = paymentToken
    }

    /// `lines` may be left out (a cart's checkout).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        orderId = try container.decode(String.self, forKey: .orderId)
        customerId = try container.decode(String.self, forKey: .customerId)
        cartId = try container.decodeIfPresent(String.self, forKey: .cartId)
        lines = try container.decodeIfPresent([OrderItem].self, forKey: .lines) ?? []
        shippingAddress = try container.decode(Address.self, forKey: .shippingAddress)
        paymentToken = try container.decode(String.self, forKey: .paymentToken)
    }

    private enum CodingKeys: String, CodingKey {
        case orderId, customerId, cartId, lines, shippingAddress, paymentToken
    }

    public var key: String { orderId }

    public static let schema = Schema.object([
        .init("orderId", .id()), .init("customerId", .id()),
        .init("cartId", .id(), required: false, description: "the order checks this cart out (its lines at the catalog's prices, its coupon); send no lines with it"),
        .init("lines", .array(OrderItem.schema, maxItems: 100), required: false, description: "what to order, when not a cart's checkout"),
        .init("shippingAddress", .address),
        .init("paymentToken", .text(max: 200, min: 1)),
    ])
    public static let example = CreateOrder(
        orderId: "order-1", customerId: "cust-1", cartId: "cart-1", lines: [],
        shippingAddress: .example, paymentToken: "tok_visa"
    )
}

public struct UpdateOrderStatus: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "UpdateOrderStatus"
    public static let kind = MessageKind.command
    public static let summary = "An operator moves a non-terminal order to a new status (with compensation where needed)."

    public var orderId: String
    public var status: String
    public var reason: String?
    public init(orderId: String, status: String, reason: String? = nil) {
        self.orderId = orderId
        self.status = status
        self.reason = reason
    }

    public var key: String { orderId }

    public static let schema = Schema.object([
        .init("orderId", .id()), .init("status", .oneOf(orderStatuses)), .init("reason", .text(max: 1000), required: false),
    ])
    public static let example = UpdateOrderStatus(orderId: "order-1", status: "cancelled", reason: "customer called")
}

public struct CancelOrder: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "CancelOrder"
    public static let kind = MessageKind.command
    public static let summary = "Cancels a non-terminal order: releases stock, refunds a capture, cancels an undispatched shipment."

    public var orderId: String
    public var reason: String?
    public init(orderId: String, reason: String? = nil) {
        self.orderId = orderId
        self.reason = reason
    }

    public var key: String { orderId }

    public static let schema = Schema.object([.init("orderId", .id()), .init("reason", .text(max: 1000), required: false)])
    public static let example = CancelOrder(orderId: "order-1", reason: "changed my mind")
}

public struct OrderCreated: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "OrderCreated"
    public static let kind = MessageKind.event
    public static let summary = "An order was accepted and its saga started."

    public var orderId: String
    public var customerId: String
    public var lines: [OrderLine]
    /// The cart the order checked out, with its coupon.
    public var cartId: String?
    public var couponCode: String?
    /// Taken off the lines' sum (a cart's coupon); `total` is what is charged.
    public var discount: Money?
    public var total: Money
    public var shippingAddress: Address
    public var createdAt: Date
    public init(
        orderId: String,
        customerId: String,
        lines: [OrderLine],
        cartId: String? = nil,
        couponCode: String? = nil,
        discount: Money? = nil,
        total: Money,
        shippingAddress: Address,
        createdAt: Date
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.lines = lines
        self.cartId = cartId
        self.couponCode = couponCode
        self.discount = discount
        self.total = total
        self.shippingAddress = shippingAddress
        self.createdAt = createdAt
    }

    public var key: String { orderId }

    public static let schema = Schema.object([
        .init("orderId", .id()), .init("customerId", .id()), .init("lines", .array(OrderLine.schema, minItems: 1)),
        .init("cartId", .id(), required: false), .init("couponCode", .id(), required: false),
        .init("discount", .money, required: false, description: "taken off the lines' sum by the cart's coupon"),
        .init("total", .money, description: "what is charged: the lines' sum less the discount"), .init("shippingAddress", .address), .init("createdAt", .timestamp),
    ])
    public static let example = OrderCreated(
        orderId: "order-1", customerId: "cust-1",
        lines: [OrderLine(productId: "prod-1", sku: "TEA-OOLONG-100", quantity: 2, unitPrice: Money(119_000, "VND"), priceSource: OrderLine.catalogPrice)],
        total: Money(238_000, "VND"), shippingAddress: .example, createdAt: Date(timeIntervalSince1970: 1_795_001_000)
    )
}

public struct OrderStatusUpdated: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "OrderStatusUpdated"
    public static let kind = MessageKind.event
    public static let summary = "An order moved from one status to another."

    public var orderId: String
    public var previousStatus: String
    public var status: String
    public var reason: String?
    public var updatedAt: Date
    public init(orderId: String, previousStatus: String, status: String, reason: String? = nil, updatedAt: Date) {
        self.orderId = orderId
        self.previousStatus = previousStatus
        self.status = status
        self.reason = reason
        self.updatedAt = updatedAt
    }

    public var key: String { orderId }

    public static let schema = Schema.object([
        .init("orderId", .id()), .init("previousStatus", .oneOf(orderStatuses)), .init("status", .oneOf(orderStatuses)),
        .init("reason", .text(max: 1000), required: false), .init("updatedAt", .timestamp),
    ])
    public static let example = OrderStatusUpdated(
        orderId: "order-1", previousStatus: "reserving", status: "awaiting_payment", reason: nil, updatedAt: Date(timeIntervalSince1970: 1_795_001_010)
    )
}

public struct OrderCancelled: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "OrderCancelled"
    public static let kind = MessageKind.event
    public static let summary = "An order ended cancelled, after its compensations."

    public var orderId: String
    public var reason: String
    public var cancelledAt: Date
    public init(orderId: String, reason: String, cancelledAt: Date) {
        self.orderId = orderId
        self.reason = reason
        self.cancelledAt = cancelledAt
    }

    public var key: String { orderId }

    public static let schema = Schema.object([.init("orderId", .id()), .init("reason", .text(max: 1000, min: 1)), .init("cancelledAt", .timestamp)])
    public static let example = OrderCancelled(orderId: "order-1", reason: "changed my mind", cancelledAt: Date(timeIntervalSince1970: 1_795_001_020))
}

public struct OrderFulfilled: TopicMessage {
    public static let context = BoundedContext.order
    public static let name = "OrderFulfilled"
    public static let kind = MessageKind.event
    public static let summary = "An order was delivered: its terminal success."

    public var orderId: String
    public var shipmentId: String
    public var fulfilledAt: Date
    public init(orderId: String, shipmentId: String, fulfilledAt: Date) {
        self.orderId = orderId
        self.shipmentId = shipmentId
        self.fulfilledAt = fulfilledAt
    }

    public var key: String { orderId }

    public static let schema = Schema.object([.init("orderId", .id()), .init("shipmentId", .id()), .init("fulfilledAt", .timestamp)])
    public static let example = OrderFulfilled(orderId: "order-1", shipmentId: "ship-order-1", fulfilledAt: Date(timeIntervalSince1970: 1_795_090_000))
}

public struct GetOrder: Contract {
    public static let context = BoundedContext.order
    public static let name = "GetOrder"
    public static let kind = MessageKind.query
    public static let summary = "One order with its lines, totals and status (GET /api/orders/:id)."
    public var orderId: String
    public init(orderId: String) {
        self.orderId = orderId
    }

    public static let schema = Schema.object([.init("orderId", .id())])
    public static let example = GetOrder(orderId: "order-1")
}

public struct ListOrders: Contract {
    public static let context = BoundedContext.order
    public static let name = "ListOrders"
    public static let kind = MessageKind.query
    public static let summary = "Orders, newest first, optionally by status, a page at a time (GET /api/orders)."
    public var status: String?
    public var cursor: String?
    public var limit: Int?
    public init(status: String? = nil, cursor: String? = nil, limit: Int? = nil) {
        self.status = status
        self.cursor = cursor
        self.limit = limit
    }

    public static let schema = Schema.object([
        .init("status", .oneOf(orderStatuses), required: false), .init("cursor", .text(max: 500), required: false),
        .init("limit", .integer(minimum: 1, maximum: 100), required: false),
    ])
    public static let example = ListOrders(status: "paid", cursor: nil, limit: 20)
}

public struct GetOrderHistory: Contract {
    public static let context = BoundedContext.order
    public static let name = "GetOrderHistory"
    public static let kind = MessageKind.query
    public static let summary = "Every step of an order's saga with its time."
    public var orderId: String
    public init(orderId: String) {
        self.orderId = orderId
    }

    public static let schema = Schema.object([.init("orderId", .id())])
    public static let example = GetOrderHistory(orderId: "order-1")
}

public struct GetOrderStatus: Contract {
    public static let context = BoundedContext.order
    public static let name = "GetOrderStatus"
    public static let kind = MessageKind.query
    public static let summary = "An order's current status and what it waits for."
    public var orderId: String
    public init(orderId: String) {
        self.orderId = orderId
    }

    public static let schema = Schema.object([.init("orderId", .id())])
    public static let example = GetOrderStatus(orderId: "order-1")
}
