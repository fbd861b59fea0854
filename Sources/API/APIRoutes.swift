import Commerce
import Contracts
import Projections

/// Every route of the API. The seed's routes (architecture.md) plus the few that its commands and
/// queries need and it names no route for (prices, inventory, capture, carrier, estimates, …).
public enum APIRoutes {
    static let productEvents = ["souk.product.events.v1"]
    static let inventoryEvents = ["souk.inventory.events.v1"]
    static let orderEvents = ["souk.order.events.v1", "souk.payment.events.v1", "souk.shipping.events.v1"]
    static let customerEvents = ["souk.customer.events.v1"]
    static let cartEvents = ["souk.cart.events.v1"]
    static let paymentEvents = ["souk.payment.events.v1"]
    static let shippingEvents = ["souk.shipping.events.v1"]

    static func generated(_ field: String, _ prefix: String) -> CommandRoute.GeneratedID { .init(field: field, prefix: prefix) }

    static func operation(
        _ method: APIOperation.Method, _ path: String, _ id: String, _ tag: String, _ access: APIOperation.Access, _ summary: String,
        _ action: APIOperation.Action
    ) -> APIOperation {
        APIOperation(method: method, path: path, operationID: id, summary: summary, tag: tag, access: access, action: action)
    }

    public static let operations: [APIOperation] = products + orders + customers + carts + payments + shipments + builtins

    // MARK: - Product

    static let products: [APIOperation] = [
        operation(.post, "/api/products", "createProduct", "products", .system, "CreateProduct: add a product to the catalog",
            .command(CommandRoute(CreateProduct.self, generates: generated("productId", "prod")))),
        operation(.get, "/api/products", "listProducts", "products", .open, "ListProducts: products on sale, filtered, sorted, a page at a time",
            .query(.make(ListProducts.self, sources: productEvents) { backend, query, _ in try await backend.queries().products(query) })),
        operation(.get, "/api/products/search", "searchProducts", "products", .open, "SearchProducts: full-text search with typo tolerance",
            .query(.make(SearchProducts.self, sources: productEvents) { backend, query, _ in
                SearchResults(items: try await backend.queries().search(query))
            })),
        operation(.get, "/api/products/:id", "getProduct", "products", .open, "GetProduct: one product (deleted ones are flagged)",
            .query(.make(GetProduct.self, path: ["id": "productId"], sources: productEvents) { backend, query, _ in
                try await backend.product(query)
            })),
        operation(.put, "/api/products/:id", "updateProduct", "products", .system, "UpdateProduct: change descriptive fields",
            .command(CommandRoute(UpdateProduct.self, path: ["id": "productId"]))),
        operation(.delete, "/api/products/:id", "deleteProduct", "products", .system, "DeleteProduct: remove a product from sale",
            .command(CommandRoute(DeleteProduct.self, path: ["id": "productId"]))),
        operation(.put, "/api/products/:id/price", "setProductPrice", "products", .system, "SetProductPrice: set a product's price",
            .command(CommandRoute(SetProductPrice.self, path: ["id": "productId"]))),
        operation(.put, "/api/inventory/:sku", "updateInventory", "products", .system, "UpdateInventory: set or adjust a SKU's stock",
            .command(CommandRoute(UpdateInventory.self, path: ["sku": "sku"]))),
        operation(.get, "/api/inventory/:sku", "getInventoryLevel", "products", .open, "GetInventoryLevel: available, reserved and sold",
            .query(.make(GetInventoryLevel.self, path: ["sku": "sku"], sources: inventoryEvents) { backend, query, _ in
                try await backend.queries().inventoryLevel(query)
            })),
    ]

    // MARK: - Order

    static let orders: [APIOperation] = [
        operation(.post, "/api/orders", "createOrder", "orders", .bodyCustomer("customerId"), "CreateOrder: place an order (the saga takes it from there)",
            .command(CommandRoute(CreateOrder.self, generates: generated("orderId", "order")))),
        operation(.get, "/api/orders", "listOrders", "orders", .system, "ListOrders: orders, newest first, optionally by status",
            .query(.make(ListOrders.self, sources: orderEvents) { backend, query, _ in try await backend.queries().orders(query) })),
        operation(.get, "/api/orders/:id", "getOrder", "orders", .owner, "GetOrder: one order with its lines, totals and status",
            .query(.make(GetOrder.self, path: ["id": "orderId"], sources: orderEvents) { backend, query, principal in
                try backend.owned(try await backend.queries().order(query), by: principal) { $0.customerId }
            })),
        operation(.put, "/api/orders/:id/status", "updateOrderStatus", "orders", .system, "UpdateOrderStatus: an operator moves an order on",
            .command(CommandRoute(UpdateOrderStatus.self, path: ["id": "orderId"]))),
        operation(.delete, "/api/orders/:id", "cancelOrder", "orders", .owner, "CancelOrder: cancel an order that has not ended",
            .command(CommandRoute(CancelOrder.self, path: ["id": "orderId"]))),
        operation(.get, "/api/orders/:id/history", "getOrderHistory", "orders", .owner, "GetOrderHistory: every step of the order's saga",
            .query(.make(GetOrderHistory.self, path: ["id": "orderId"], sources: orderEvents) { backend, query, principal in
                try await backend.requireOrder(query.orderId, ownedBy: principal)
                return try await backend.queries().orderHistory(query)
            })),
        operation(.get, "/api/orders/:id/status", "getOrderStatus", "orders", .owner, "GetOrderStatus: the status and what the order waits for",
            .query(.make(GetOrderStatus.self, path: ["id": "orderId"], sources: orderEvents) { backend, query, principal in
                try await backend.requireOrder(query.orderId, ownedBy: principal)
                return try await backend.queries().orderStatus(query)
            })),
        operation(.get, "/api/orders/customer/:customerId", "listCustomerOrders", "orders", .pathCustomer("customerId"),
            "GetCustomerOrders: one customer's orders, newest first",
            .query(.make(GetCustomerOrders.self, path: ["customerId": "customerId"], sources: orderEvents) { backend, query, _ in
                try await backend.queries().customerOrders(query)
            })),
    ]

    // MARK: - Customer

    static let customers: [APIOperation] = [
        operation(.post, "/api/customers", "registerCustomer", "customers", .bodyCustomer("customerId"), "RegisterCustomer: a new customer",
            .command(CommandRoute(RegisterCustomer.self, generates: generated("customerId", "cust")))),
        operation(.get, "/api/customers/:id", "getCustomerProfile", "customers", .pathCustomer("id"), "GetCustomerProfile: a customer's profile",
            .query(.make(GetCustomerProfile.self, path: ["id": "customerId"], sources: customerEvents) { backend, query, _ in
                try await backend.queries().customerProfile(query)
            })),
        operation(.put, "/api/customers/:id", "updateCustomerProfile", "customers", .pathCustomer("id"), "UpdateCustomerProfile: name and phone",
            .command(CommandRoute(UpdateCustomerProfile.self, path: ["id": "customerId"]))),
        operation(.get, "/api/customers/:id/orders", "getCustomerOrders", "customers", .pathCustomer("id"), "GetCustomerOrders: the customer's orders",
            .query(.make(GetCustomerOrders.self, path: ["id": "customerId"], sources: orderEvents) { backend, query, _ in
                try await backend.queries().customerOrders(query)
            })),
        operation(.get, "/api/customers/:id/addresses", "getCustomerAddresses", "customers", .pathCustomer("id"),
            "GetCustomerAddresses: the address book and its default",
            .query(.make(GetCustomerAddresses.self, path: ["id": "customerId"], sources: customerEvents) { backend, query, _ in
                try await backend.queries().customerAddresses(query)
            })),
        operation(.put, "/api/customers/:id/addresses", "updateShippingAddress", "customers", .pathCustomer("id"),
            "UpdateShippingAddress: add or change an address",
            .command(CommandRoute(UpdateShippingAddress.self, path: ["id": "customerId"]))),
        operation(.put, "/api/customers/:id/payment-methods", "updateBillingInfo", "customers", .pathCustomer("id"),
            "UpdateBillingInfo: a tokenized payment method (never a card number)",
            .command(CommandRoute(UpdateBillingInfo.self, path: ["id": "customerId"]))),
    ]

    // MARK: - Cart

    static let carts: [APIOperation] = [
        operation(.post, "/api/carts", "createCart", "carts", .bodyCustomer("customerId"), "CreateCart: an empty cart in one currency",
            .command(CommandRoute(CreateCart.self, generates: generated("cartId", "cart")))),
        operation(.get, "/api/carts/:id", "getCart", "carts", .owner, "GetCart: items, coupon and totals",
            .query(.make(GetCart.self, path: ["id": "cartId"], sources: cartEvents) { backend, query, principal in
                try backend.owned(try await backend.queries().cart(query), by: principal) { $0.customerId }
            })),
        operation(.get, "/api/carts/:id/total", "getCartTotal", "carts", .owner, "GetCartTotal: subtotal, discount and total",
            .query(.make(GetCartTotal.self, path: ["id": "cartId"], sources: cartEvents) { backend, query, principal in
                try await backend.requireCart(query.cartId, ownedBy: principal)
                return try await backend.cartTotal(query)
            })),
        operation(.get, "/api/carts/:id/discounts", "getAppliedDiscounts", "carts", .owner, "GetAppliedDiscounts: the coupons applied",
            .query(.make(GetAppliedDiscounts.self, path: ["id": "cartId"], sources: cartEvents) { backend, query, principal in
                try await backend.requireCart(query.cartId, ownedBy: principal)
                return try await backend.queries().appliedDiscounts(query)
            })),
        operation(.put, "/api/carts/:id/items", "addItemToCart", "carts", .owner, "AddItemToCart: add a product at its current price",
            .command(CommandRoute(AddItemToCart.self, path: ["id": "cartId"]))),
        operation(.put, "/api/carts/:id/items/:itemId", "updateQuantity", "carts", .owner, "UpdateQuantity: set an item's quantity (0 removes it)",
            .command(CommandRoute(UpdateQuantity.self, path: ["id": "cartId", "itemId": "productId"]))),
        operation(.delete, "/api/carts/:id/items/:itemId", "removeItemFromCart", "carts", .owner, "RemoveItemFromCart: take an item out",
            .command(CommandRoute(RemoveItemFromCart.self, path: ["id": "cartId", "itemId": "productId"]))),
        operation(.put, "/api/carts/:id/coupon", "applyCoupon", "carts", .owner, "ApplyCoupon: apply a coupon code",
            .command(CommandRoute(ApplyCoupon.self, path: ["id": "cartId"]))),
    ]

    // MARK: - Payment

    static let payments: [APIOperation] = [
        operation(.post, "/api/payments", "processPayment", "payments", .system, "ProcessPayment: authorize (and capture) a payment",
            .command(CommandRoute(ProcessPayment.self, generates: generated("paymentId", "pay")))),
        operation(.post, "/api/payments/:id/refund", "refundPayment", "payments", .system, "RefundPayment: refund part or all of a capture",
            .command(CommandRoute(RefundPayment.self, path: ["id": "paymentId"], generates: generated("refundId", "refund")))),
        operation(.post, "/api/payments/:id/capture", "capturePayment", "payments", .system, "CapturePayment: capture a manual authorization",
            .command(CommandRoute(CapturePayment.self, path: ["id": "paymentId"]))),
        operation(.get, "/api/payments/:id/status", "getPaymentStatus", "payments", .owner, "GetPaymentStatus: a payment with its refunds",
            .query(.make(GetPaymentStatus.self, path: ["id": "paymentId"], sources: paymentEvents) { backend, query, principal -> PaymentView? in
                guard let payment = try await backend.queries().paymentStatus(query) else { return nil }
                try await backend.requireOrder(payment.orderId, ownedBy: principal)
                return payment
            })),
        operation(.get, "/api/payments/:id/refunds/:refundId", "getRefundStatus", "payments", .owner, "GetRefundStatus: one refund",
            .query(.make(GetRefundStatus.self, path: ["id": "paymentId", "refundId": "refundId"], sources: paymentEvents) { backend, query, principal -> RefundView? in
                guard let refund = try await backend.queries().refundStatus(query) else { return nil }
                try await backend.requireOrder(refund.orderId, ownedBy: principal)
                return refund
            })),
        operation(.get, "/api/payments/customer/:customerId", "getPaymentHistory", "payments", .pathCustomer("customerId"),
            "GetPaymentHistory: the payments of a customer's orders",
            .query(.make(GetPaymentHistory.self, path: ["customerId": "customerId"], sources: paymentEvents) { backend, query, _ in
                try await backend.queries().paymentHistory(query)
            })),
    ]

    // MARK: - Shipping

    static let shipments: [APIOperation] = [
        operation(.post, "/api/shipments", "createShipment", "shipments", .system, "CreateShipment: a parcel for an order",
            .command(CommandRoute(CreateShipment.self, generates: generated("shipmentId", "ship")))),
        operation(.get, "/api/shipments/estimate", "getDeliveryEstimate", "shipments", .open, "GetDeliveryEstimate: days to deliver, from the rate card",
            .query(.make(GetDeliveryEstimate.self, sources: []) { backend, query, _ in backend.carrierRules.estimate(query) })),
        operation(.get, "/api/shipments/:id/track", "trackShipment", "shipments", .owner, "TrackShipment: the status history",
            .query(.make(TrackShipment.self, path: ["id": "shipmentId"], sources: shippingEvents) { backend, query, principal in
                try await backend.requireShipment(query.shipmentId, ownedBy: principal)
                return try await backend.queries().tracking(query)
            })),
        operation(.put, "/api/shipments/:id/status", "updateShipmentStatus", "shipments", .system, "UpdateShipmentStatus: the carrier's progress",
            .command(CommandRoute(UpdateShipmentStatus.self, path: ["id": "shipmentId"]))),
        operation(.put, "/api/shipments/:id/carrier", "assignCarrier", "shipments", .system, "AssignCarrier: choose (or name) the carrier",
            .command(CommandRoute(AssignCarrier.self, path: ["id": "shipmentId"]))),
        operation(.get, "/api/shipments/order/:orderId", "getShipmentStatus", "shipments", .owner, "GetShipmentStatus: the order's shipment",
            .query(.make(GetShipmentStatus.self, path: ["orderId": "orderId"], sources: shippingEvents) { backend, query, principal in
                try await backend.requireOrder(query.orderId, ownedBy: principal)
                return try await backend.queries().shipmentStatus(query)
            })),
    ]

    // MARK: - The API's own

    static let builtins: [APIOperation] = [
        operation(.get, "/api/commands/:id", "getCommandOutcome", "commands", .authenticated,
            "A command's outcome: applied, rejected with the reason, or pending (?wait=5s waits for it)", .builtin),
        operation(.get, "/openapi.json", "getOpenAPI", "meta", .open, "This document", .builtin),
        operation(.get, "/health/live", "live", "meta", .open, "Liveness", .builtin),
        operation(.get, "/health/ready", "ready", "meta", .open, "Readiness", .builtin),
        operation(.get, "/metrics", "metrics", "meta", .open, "Prometheus metrics", .builtin),
    ]
}

/// The answer to SearchProducts.
struct SearchResults: Encodable {
    var items: [ProductView]
}
