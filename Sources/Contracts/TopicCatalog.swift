/// What a topic carries.
public enum TopicKind: String, Sendable, Codable {
    case commands, events, changelog, dlq
    /// A role's own repartition topic (claims, lookups): not for other systems.
    case `internal`
}

/// One topic of the contract, as `topics/<name>.yaml` declares it.
public struct TopicSpec: Sendable, Equatable, Codable {
    public var name: String
    public var context: String
    public var kind: TopicKind
    public var version: Int
    public var owner: String
    public var partitions: Int
    public var replicationFactor: Int
    public var key: String
    public var configs: [String: String]
    public var messages: [String]
    public var description: String

    public init(
        context: String,
        kind: TopicKind,
        owner: String,
        key: String,
        messages: [String],
        description: String,
        partitions: Int = 6,
        replicationFactor: Int = 3,
        configs: [String: String]? = nil,
        version: Int = 1,
        purpose: String? = nil
    ) {
        self.name = "souk.\(context).\(purpose ?? kind.rawValue).v\(version)"
        self.context = context
        self.kind = kind
        self.version = version
        self.owner = owner
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.key = key
        self.configs = configs ?? TopicSpec.defaultConfigs(kind)
        self.messages = messages
        self.description = description
    }

    /// Commands are kept a week; events are the system of record and kept forever; changelogs compact.
    static func defaultConfigs(_ kind: TopicKind) -> [String: String] {
        switch kind {
        case .commands: ["cleanup.policy": "delete", "retention.ms": "604800000", "min.insync.replicas": "2"]
        case .events: ["cleanup.policy": "delete", "retention.ms": "-1", "min.insync.replicas": "2"]
        case .changelog: ["cleanup.policy": "compact", "min.insync.replicas": "2"]
        case .dlq: ["cleanup.policy": "delete", "retention.ms": "2592000000", "min.insync.replicas": "2"]
        case .internal: ["cleanup.policy": "delete", "retention.ms": "604800000", "min.insync.replicas": "2"]
        }
    }
}

/// Every topic and message of Souk's public contract. `topics/` is generated from it
/// (`souk topics export`), and a test proves the two agree.
public enum TopicCatalog {
    public static let messages: [any Contract.Type] = [
        CreateProduct.self, UpdateProduct.self, DeleteProduct.self, SetProductPrice.self,
        ProductCreated.self, ProductUpdated.self, ProductDeleted.self, PriceChanged.self,
        GetProduct.self, ListProducts.self, SearchProducts.self,
        UpdateInventory.self, InventoryUpdated.self, GetInventoryLevel.self,
        CreateOrder.self, UpdateOrderStatus.self, CancelOrder.self,
        OrderCreated.self, OrderStatusUpdated.self, OrderCancelled.self, OrderFulfilled.self,
        GetOrder.self, ListOrders.self, GetOrderHistory.self, GetOrderStatus.self,
        RegisterCustomer.self, UpdateCustomerProfile.self, UpdateShippingAddress.self, UpdateBillingInfo.self,
        CustomerRegistered.self, ProfileUpdated.self, AddressUpdated.self, BillingInfoUpdated.self,
        GetCustomerProfile.self, GetCustomerOrders.self, GetCustomerAddresses.self,
        CreateCart.self, AddItemToCart.self, RemoveItemFromCart.self, UpdateQuantity.self, ApplyCoupon.self,
        CartCreated.self, ItemAdded.self, ItemRemoved.self, QuantityUpdated.self, CouponApplied.self, CartRevised.self, CartCheckedOut.self,
        GetCart.self, GetCartTotal.self, GetAppliedDiscounts.self,
        ProcessPayment.self, CapturePayment.self, RefundPayment.self,
        PaymentProcessed.self, PaymentFailed.self, RefundInitiated.self, RefundCompleted.self,
        GetPaymentStatus.self, GetPaymentHistory.self, GetRefundStatus.self,
        CreateShipment.self, AssignCarrier.self, UpdateShipmentStatus.self,
        ShipmentCreated.self, CarrierAssigned.self, ShipmentStatusUpdated.self, DeliveryCompleted.self,
        GetShipmentStatus.self, TrackShipment.self, GetDeliveryEstimate.self,
        CommandRejected.self,
    ]

    /// The roles that own topics; each also has a changelog and a dead-letter topic.
    public static let roles = ["catalog", "inventory", "customer", "cart", "order-saga", "payment", "shipping", "timers"]

    private static func types(_ context: BoundedContext, _ kind: MessageKind) -> [String] {
        messages.filter { $0.context == context && $0.kind == kind }.map { $0.typeName }
    }

    private static func pair(_ context: BoundedContext, owner: String, key: String, what: String) -> [TopicSpec] {
        [
            TopicSpec(
                context: context.rawValue, kind: .commands, owner: owner, key: key, messages: types(context, .command),
                description: "Commands to the \(what); produced by the ingestion API or upstream systems."
            ),
            TopicSpec(
                context: context.rawValue, kind: .events, owner: owner, key: key,
                messages: types(context, .event) + [CommandRejected.typeName],
                description: "What happened to the \(what), including rejected commands."
            ),
        ]
    }

    public static let topics: [TopicSpec] =
        pair(.product, owner: "catalog", key: "productId", what: "catalog")
        + pair(.inventory, owner: "inventory", key: "sku", what: "stock")
        + pair(.order, owner: "order-saga", key: "orderId", what: "orders")
        + pair(.customer, owner: "customer", key: "customerId", what: "customers")
        + pair(.cart, owner: "cart", key: "cartId", what: "carts")
        + pair(.payment, owner: "payment", key: "paymentId", what: "payments")
        + pair(.shipping, owner: "shipping", key: "shipmentId", what: "shipments")
        + internalTopics
        + roles.flatMap { role in
            [
                TopicSpec(
                    context: role, kind: .changelog, owner: role, key: "the role's state key",
                    messages: ["souk.StoredState.v1"], description: "State changes of the \(role) role, co-partitioned with its inputs."
                ),
                TopicSpec(
                    context: role, kind: .dlq, owner: role, key: "the original record's key", messages: ["(original bytes)"],
                    description: "Records the \(role) role could not process, with dlq_* headers saying why and from where.",
                    partitions: 1
                ),
            ]
        }

    /// Repartition topics that roles use to check a rule across keys (a SKU, an e-mail address, a
    /// coupon's usage) or to look up another aggregate (a product's price), co-partitioned with the rest.
    public static let internalTopics: [TopicSpec] = [
        internalTopic("catalog", "sku-claims", key: "sku", "souk.catalog.SkuClaim.v1", "CreateProduct claims its SKU; the SKU's owner decides."),
        internalTopic("catalog", "sku-decisions", key: "productId", "souk.catalog.SkuDecision.v1", "Whether a product got its SKU."),
        internalTopic("customer", "email-claims", key: "email", "souk.customer.EmailClaim.v1", "RegisterCustomer claims its e-mail address."),
        internalTopic("customer", "email-decisions", key: "customerId", "souk.customer.EmailDecision.v1", "Whether a customer got its e-mail address."),
        internalTopic("cart", "price-requests", key: "productId", "souk.cart.PriceRequest.v1", "A cart asks for a product's current price."),
        internalTopic("cart", "price-replies", key: "cartId", "souk.cart.PriceReply.v1", "A product's price (or absence) for a cart."),
        internalTopic(
            "cart", "quote-requests", key: "productId", "souk.cart.QuoteRequest.v1",
            "The order saga asks for a product's current price, SKU and weight (its only writer)."
        ),
        internalTopic(
            "cart", "checkout-requests", key: "cartId", ["souk.cart.CheckoutCart.v1", "souk.cart.ReopenCart.v1"],
            "The order saga checks a cart out (its lines at the catalog's current prices, its coupon's use counted, the cart closed), and opens it again when the order did not start (its only writer)."
        ),
        internalTopic(
            "customer", "payment-method-checks", key: "customerId", "souk.customer.PaymentMethodCheck.v1",
            "The order saga asks whether a payment token is the customer's own saved method (its only writer)."
        ),
        internalTopic(
            "cart", "coupon-claims", key: "couponCode", ["souk.cart.CouponClaim.v1", "souk.cart.CouponRelease.v1"],
            "A cart checks a coupon, or claims one use of it at checkout (or gives a use back when its order did not start)."
        ),
        internalTopic("cart", "coupon-decisions", key: "cartId", "souk.cart.CouponDecision.v1", "Whether a cart got its coupon, and its terms."),
        // Every internal topic has one transactional writer role: on the local broker a transaction
        // finishes only when every other writer's transaction on its partitions is prepared too, and
        // two roles writing one partition hold each other's transactions back for seconds.
        internalTopic(
            "inventory", "reservations", key: "sku",
            ["souk.inventory.ReserveStock.v1", "souk.inventory.ReleaseStock.v1", "souk.inventory.ConfirmStock.v1", "souk.inventory.ReturnStock.v1", "souk.inventory.ExpireReservation.v1"],
            "The order saga's stock requests (their only writer). Reservation timers went off here before they had a topic of their own; inventory still reads those."
        ),
        internalTopic(
            "inventory", "expiries", key: "sku", "souk.inventory.ExpireReservation.v1",
            "Reservation timers going off, delivered by the timer role (their only writer)."
        ),
        // One reply topic per answering context: on the local broker a transaction finishes only when
        // every other writer's transaction on its partitions is prepared too, so a partition written
        // by four roles' producers stays pinned far more often than one written by a single role's.
        sagaReplies("stock-replies", from: "inventory", ["souk.inventory.StockAnswer.v1", "souk.CommandRejected.v1"]),
        sagaReplies("cart-replies", from: "cart", ["souk.cart.ProductQuote.v1", "souk.cart.CartCheckout.v1"]),
        sagaReplies("customer-replies", from: "customer", ["souk.customer.PaymentMethodAnswer.v1"]),
        sagaReplies(
            "payment-replies", from: "payment",
            ["souk.payment.PaymentProcessed.v1", "souk.payment.PaymentFailed.v1", "souk.payment.RefundCompleted.v1", "souk.CommandRejected.v1"]
        ),
        sagaReplies(
            "shipping-replies", from: "shipping",
            [
                "souk.shipping.ShipmentCreated.v1", "souk.shipping.CarrierAssigned.v1", "souk.shipping.ShipmentStatusUpdated.v1",
                "souk.shipping.DeliveryCompleted.v1", "souk.CommandRejected.v1",
            ]
        ),
        TopicSpec(
            context: "order", kind: .internal, owner: "order-saga", key: "orderId", messages: ["souk.order.DeadlineReached.v1"],
            description: "The saga's deadlines going off, delivered by the timer role.", purpose: "deadlines"
        ),
        TopicSpec(
            context: "order", kind: .internal, owner: "order-saga", key: "orderId",
            messages: [
                "souk.inventory.StockAnswer.v1", "souk.order.DeadlineReached.v1", "souk.payment.PaymentProcessed.v1", "souk.payment.PaymentFailed.v1",
                "souk.payment.RefundCompleted.v1", "souk.shipping.ShipmentCreated.v1", "souk.shipping.CarrierAssigned.v1",
                "souk.shipping.ShipmentStatusUpdated.v1", "souk.shipping.DeliveryCompleted.v1", "souk.CommandRejected.v1",
            ],
            description: "Replaced by the four topics above; the saga still reads it, so that answers requested before an upgrade arrive.",
            purpose: "saga-replies"
        ),
        TopicSpec(
            context: "timers", kind: .internal, owner: "timers", key: "the requesting aggregate's key (ticks: none, one per partition)",
            messages: ["souk.timers.Schedule.v1", "souk.timers.Cancel.v1", "souk.timers.Tick.v1"],
            description: "Durable timers: the order saga schedules and cancels messages for later here (inventory did too before it had a topic of its own); ticks make the timer role fire what is due.",
            purpose: "requests"
        ),
        TopicSpec(
            context: "timers", kind: .internal, owner: "timers", key: "sku",
            messages: ["souk.timers.Schedule.v1", "souk.timers.Cancel.v1"],
            description: "Durable timers of the inventory role: its reservations' expiries, scheduled and cancelled here.",
            purpose: "inventory-requests"
        ),
    ]

    static func sagaReplies(_ purpose: String, from context: String, _ messages: [String]) -> TopicSpec {
        TopicSpec(
            context: "order", kind: .internal, owner: "order-saga", key: "orderId", messages: messages,
            description: "The \(context) context's answers to the saga's requests (it copies each answer here, keyed by order id).", purpose: purpose
        )
    }

    static func internalTopic(_ owner: String, _ purpose: String, key: String, _ message: String, _ description: String) -> TopicSpec {
        internalTopic(owner, purpose, key: key, [message], description)
    }

    static func internalTopic(_ owner: String, _ purpose: String, key: String, _ messages: [String], _ description: String) -> TopicSpec {
        TopicSpec(context: owner, kind: .internal, owner: owner, key: key, messages: messages, description: description, purpose: purpose)
    }

    public static func message(named typeName: String) -> (any Contract.Type)? {
        messages.first { $0.typeName == typeName }
    }
}
