import Carts
import Commerce
import Contracts
import Customers
import Foundation
import Inventory
import JSONCodec
import Kafka
import Orders
import Payments
import Postgres
import Projections
import RoleSupport
import ServiceLifecycle
import Shipping
import Streams
import Synchronization
import TestSupport

/// The order flow's roles on topics of their own (one run's prefix), as in-process workers on the real
/// broker, with a projector into PostgreSQL and a tap that reads every events topic.
final class SagaRig: Sendable {
    let stack: TestStack
    let run: String
    let orders: OrderSagaRole.Topics
    let inventory: InventoryRole.Topics
    let payments: PaymentRole.Topics
    let shipping: ShippingRole.Topics
    let timers: String
    let carts: CartRole.Topics
    let customers: CustomerRole.Topics
    /// Where the rig's own price lookups are answered (to know the cart role has a product's price).
    let probeReplies: String
    private let seeded = Mutex<Set<String>>([])
    let tap: TopicTap
    let producer: KafkaProducer
    let queries: ReadModelQueries
    private let tasks: [Task<Void, any Error>]

    var eventTopics: [String] { [orders.events, inventory.events, payments.events, shipping.events] }

    init(stack: TestStack, reservationTTL: TimeInterval, deadlines: OrderSaga.Deadlines, projector: Bool = true, coupons: [Coupon] = []) async throws {
        self.stack = stack
        let run = uniqueName("saga")
        self.run = run
        var orders = OrderSagaRole.Topics()
        var inventory = InventoryRole.Topics()
        var payments = PaymentRole.Topics()
        var shipping = ShippingRole.Topics()
        let timers = "\(run).timers"
        orders.commands = "\(run).order.commands"
        orders.events = "\(run).order.events"
        orders.stockReplies = "\(run).stock-replies"
        orders.paymentReplies = "\(run).payment-replies"
        orders.shippingReplies = "\(run).shipping-replies"
        orders.deadlines = "\(run).deadlines"
        orders.cartReplies = "\(run).cart-replies"
        orders.quoteRequests = "\(run).quote-requests"
        orders.checkoutRequests = "\(run).checkout-requests"
        orders.customerReplies = "\(run).customer-replies"
        orders.paymentMethodChecks = "\(run).payment-method-checks"
        var carts = CartRole.Topics()
        carts.commands = "\(run).cart.commands"
        carts.events = "\(run).cart.events"
        carts.productEvents = "\(run).product.events"
        carts.priceRequests = "\(run).cart.price-requests"
        carts.priceReplies = "\(run).cart.price-replies"
        carts.couponClaims = "\(run).coupon-claims"
        carts.couponDecisions = "\(run).coupon-decisions"
        carts.quoteRequests = orders.quoteRequests
        carts.checkoutRequests = orders.checkoutRequests
        self.carts = carts
        var customers = CustomerRole.Topics()
        customers.commands = "\(run).customer.commands"
        customers.events = "\(run).customer.events"
        customers.emailClaims = "\(run).email-claims"
        customers.emailDecisions = "\(run).email-decisions"
        customers.paymentMethodChecks = orders.paymentMethodChecks
        self.customers = customers
        probeReplies = "\(run).probe-replies"
        orders.legacyReplies = nil
        inventory.commands = "\(run).inventory.commands"
        inventory.events = "\(run).inventory.events"
        inventory.reservations = "\(run).reservations"
        inventory.expiries = "\(run).expiries"
        payments.commands = "\(run).payment.commands"
        payments.events = "\(run).payment.events"
        shipping.commands = "\(run).shipping.commands"
        shipping.events = "\(run).shipping.events"
        orders.reservations = inventory.reservations
        orders.payments = payments.commands
        orders.shipping = shipping.commands
        orders.timers = timers
        inventory.timers = "\(run).inventory-timers"
        (self.orders, self.inventory, self.payments, self.shipping, self.timers) = (orders, inventory, payments, shipping, timers)

        let topics = [
            orders.commands, orders.events, orders.stockReplies, orders.paymentReplies, orders.shippingReplies, orders.deadlines, inventory.commands, inventory.events, inventory.reservations, payments.commands,
            payments.events, shipping.commands, shipping.events, timers, inventory.timers, inventory.expiries, orders.cartReplies, orders.quoteRequests, orders.checkoutRequests, orders.customerReplies,
            carts.commands, carts.events, carts.productEvents, carts.priceRequests, carts.priceReplies, carts.couponClaims, carts.couponDecisions, probeReplies,
            customers.commands, customers.events, customers.emailClaims, customers.emailDecisions, customers.paymentMethodChecks,
        ]
        let admin = try stack.admin()
        try await admin.createTopics(topics.map { KafkaNewTopic(name: $0, partitions: 3) })
        try await eventually("the topics exist") { try await admin.listTopics().filter { topics.contains($0.name) }.count == topics.count }

        let configuration = StreamConfiguration(
            bootstrapServers: stack.bootstrapServers, timings: stack.timings, commitInterval: .milliseconds(20),
            retryPolicy: RetryPolicy(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200), bound: .seconds(1)), leaveGroupOnClose: false
        )
        let logger = stack.logger
        let timerRole = TimerRole(name: "\(run)-timers", topic: timers, requestTopics: [inventory.timers])
        var services: [any Service] = [
            StreamWorker(role: OrderSagaRole(name: "\(run)-saga", deadlines: deadlines, topics: orders), configuration: configuration, logger: logger),
            StreamWorker(role: InventoryRole(name: "\(run)-inventory", topics: inventory, reservationTTL: reservationTTL), configuration: configuration, logger: logger),
            StreamWorker(role: PaymentRole(name: "\(run)-payment", provider: try SandboxPaymentProvider(), topics: payments), configuration: configuration, logger: logger),
            StreamWorker(role: ShippingRole(name: "\(run)-shipping", topics: shipping), configuration: configuration, logger: logger),
            StreamWorker(role: CartRole(name: "\(run)-cart", coupons: coupons, topics: carts), configuration: configuration, logger: logger),
            StreamWorker(role: CustomerRole(name: "\(run)-customer", topics: customers), configuration: configuration, logger: logger),
            TimerService(
                worker: StreamWorker(role: timerRole, configuration: configuration, logger: logger),
                ticker: Ticker(topic: timers, interval: .milliseconds(200), bootstrapServers: stack.bootstrapServers, logger: logger)
            ),
        ]
        let postgresURL = try stack.environment.require("POSTGRES_URL")
        if projector {
            services.append(ProjectorWorker(
                name: "\(run)-readmodels", topics: [orders.events, inventory.events, payments.events, shipping.events], bootstrapServers: stack.bootstrapServers,
                timings: stack.timings, postgresURL: postgresURL, leaveGroupOnClose: false, logger: logger
            ))
        }
        tasks = services.map { service in Task { try await service.run() } }
        tap = try await TopicTap(stack: stack, topics: [orders.events, inventory.events, payments.events, shipping.events, carts.events, customers.events, probeReplies])
        producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: logger)
        queries = ReadModelQueries(database: try await PostgresConnection.connect(postgresURL))
    }

    func stop() {
        tasks.forEach { $0.cancel() }
        tap.stop()
    }

    /// Sends as an upstream system on the topic (`actor`; `nil`: one that names no principal, trusted
    /// with nothing).
    func send<Message: TopicMessage>(_ message: Message, to topic: String, actor: String? = "system:saga-rig") async throws {
        _ = try await producer.send(KafkaProducerMessage(
            topic: topic, key: Array(message.key.utf8), value: try message.encoded(),
            headers: [KafkaHeader(key: CloudEventHeader.id, string: uniqueName("cmd")), KafkaHeader(key: CloudEventHeader.type, string: Message.typeName)]
                + (actor.map { [KafkaHeader(key: SoukHeader.actor, string: $0)] } ?? [])
        ))
    }

    func stock(_ sku: String, _ quantity: Int) async throws {
        try await send(UpdateInventory(sku: sku, mode: "set", quantity: quantity), to: inventory.commands)
    }

    /// Places an order for `lines` (sku, quantity); the catalog sells each SKU at 100 000 VND.
    func order(_ id: String, _ lines: [(String, Int)], token: String = "tok_visa") async throws {
        for (sku, _) in lines { try await product(sku) }
        let items = lines.map { OrderItem(productId: "p-\($0.0)", sku: $0.0, quantity: $0.1) }
        try await send(CreateOrder(orderId: id, customerId: "\(run)-customer", lines: items, shippingAddress: .example, paymentToken: token), to: orders.commands)
    }

    /// Puts product `p-<sku>` in the catalog (its event, as the catalog role writes it), once, and
    /// waits until the cart role prices it.
    func product(_ sku: String) async throws {
        guard seeded.withLock({ $0.insert(sku).inserted }) else { return }
        let created = ProductCreated(productId: "p-\(sku)", sku: sku, name: "Tea \(sku)", price: Money(100_000, "VND"), weightGrams: 500, attributes: [:], createdAt: .now)
        try await send(created, to: carts.productEvents)
        try await waitUntilPriced("p-\(sku)", at: created.price)
    }

    /// Changes a product's price in the catalog and waits until the cart role has it.
    func setPrice(_ sku: String, from old: Int, to new: Int) async throws {
        try await send(PriceChanged(productId: "p-\(sku)", sku: sku, oldPrice: Money(old, "VND"), newPrice: Money(new, "VND"), changedAt: .now), to: carts.productEvents)
        try await waitUntilPriced("p-\(sku)", at: Money(new, "VND"))
    }

    /// Waits until a lookup of the rig's own is answered with `price`.
    private func waitUntilPriced(_ productId: String, at price: Money) async throws {
        var probe: String?
        try await eventually("the cart role prices \(productId) at \(price.amountMinor)", timeout: .seconds(60)) {
            if let probe {
                let answers = tap.records(key: probe, topic: probeReplies)
                if answers.isEmpty { return false }
                if answers.contains(where: { (try? SoukJSON.decode(ProductQuote.self, from: $0.value ?? []))?.price == price }) { return true }
            }
            // No lookup out, or it came back before the product did: ask again.
            let id = uniqueName("probe")
            probe = id
            _ = try await producer.send(KafkaProducerMessage(
                topic: orders.quoteRequests, key: Array(productId.utf8), value: try SoukJSON.encode(QuoteRequest(orderId: id, productId: productId)),
                headers: [KafkaHeader(key: CloudEventHeader.id, string: id), KafkaHeader(key: CloudEventHeader.type, string: QuoteRequest.type)]
                    + ReplyAddress(topic: probeReplies, key: id).headers
            ))
            return false
        }
    }

    /// A cart of the rig's customer with `items` (sku, quantity) and `coupon`, once the cart role shows them all.
    func cart(_ cartId: String, _ items: [(String, Int)], coupon: String? = nil) async throws {
        try await send(CreateCart(cartId: cartId, customerId: "\(run)-customer", currency: "VND"), to: carts.commands)
        for (sku, quantity) in items {
            try await product(sku)
            try await send(AddItemToCart(cartId: cartId, productId: "p-\(sku)", quantity: quantity), to: carts.commands)
        }
        if let coupon { try await send(ApplyCoupon(cartId: cartId, couponCode: coupon), to: carts.commands) }
        try await eventually("cart \(cartId) holds its items and coupon") {
            let types = tap.types(key: cartId, topic: carts.events)
            return types.filter { $0 == "ItemAdded" }.count == items.count && (coupon == nil || types.contains("CouponApplied"))
        }
    }

    /// Checks cart `cartId` out as order `orderId`.
    func checkout(_ orderId: String, cart cartId: String) async throws {
        try await send(CreateOrder(orderId: orderId, customerId: "\(run)-customer", cartId: cartId, lines: [], shippingAddress: .example, paymentToken: "tok_visa"), to: orders.commands)
    }

    /// The order's outcome: `OrderCreated`, or the rejection saying why it was refused.
    func outcome(_ orderId: String) async throws -> (created: OrderCreated?, rejected: CommandRejected?) {
        var outcome: (created: OrderCreated?, rejected: CommandRejected?) = (nil, nil)
        try await eventually("order \(orderId) has an outcome", timeout: .seconds(60)) {
            for record in tap.records(key: orderId, topic: orders.events) {
                if record.shortType == "OrderCreated" { outcome.created = try OrderCreated.decode(record.value ?? []) }
                if record.shortType == "CommandRejected" { outcome.rejected = try CommandRejected.decode(record.value ?? []) }
            }
            return outcome.created != nil || outcome.rejected != nil
        }
        return outcome
    }

    func carrier(_ shipmentId: String, _ status: String) async throws {
        try await send(UpdateShipmentStatus(shipmentId: shipmentId, status: status, location: "Hanoi hub"), to: shipping.commands)
    }

    /// The order's events as names, `OrderStatusUpdated` with its new status.
    func orderEvents(_ orderId: String) -> [String] {
        tap.records(key: orderId, topic: orders.events).map { message in
            let name = message.shortType ?? "?"
            guard name == "OrderStatusUpdated", let event = try? OrderStatusUpdated.decode(message.value ?? []) else { return name }
            return "\(name)(\(event.status))"
        }
    }

    static let terminal: Set<String> = ["OrderFulfilled", "OrderCancelled", "OrderStatusUpdated(failed)"]

    /// Waits until the order has ended and returns its events.
    func ended(_ orderId: String, timeout: Duration = .seconds(90)) async throws -> [String] {
        try await eventually("order \(orderId) ends", timeout: timeout) { orderEvents(orderId).contains { Self.terminal.contains($0) } }
        return orderEvents(orderId)
    }

    /// The latest InventoryUpdated of a SKU as [available, reserved, sold].
    func level(_ sku: String) throws -> [Int]? {
        try tap.records(key: sku, topic: inventory.events).last { $0.shortType == "InventoryUpdated" }
            .map { try InventoryUpdated.decode($0.value ?? []) }.map { [$0.available, $0.reserved, $0.sold] }
    }
}
