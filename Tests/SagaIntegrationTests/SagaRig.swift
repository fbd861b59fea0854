import Commerce
import Contracts
import Foundation
import Inventory
import Kafka
import Orders
import Payments
import Postgres
import Projections
import RoleSupport
import ServiceLifecycle
import Shipping
import Streams
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
    let tap: TopicTap
    let producer: KafkaProducer
    let queries: ReadModelQueries
    private let tasks: [Task<Void, any Error>]

    var eventTopics: [String] { [orders.events, inventory.events, payments.events, shipping.events] }

    init(stack: TestStack, reservationTTL: TimeInterval, deadlines: OrderSaga.Deadlines, projector: Bool = true) async throws {
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
            payments.events, shipping.commands, shipping.events, timers, inventory.timers, inventory.expiries,
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
        tap = try await TopicTap(stack: stack, topics: [orders.events, inventory.events, payments.events, shipping.events])
        producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: logger)
        queries = ReadModelQueries(database: try await PostgresConnection.connect(postgresURL))
    }

    func stop() {
        tasks.forEach { $0.cancel() }
        tap.stop()
    }

    func send<Message: TopicMessage>(_ message: Message, to topic: String) async throws {
        _ = try await producer.send(KafkaProducerMessage(
            topic: topic, key: Array(message.key.utf8), value: try message.encoded(),
            headers: [KafkaHeader(key: CloudEventHeader.id, string: uniqueName("cmd")), KafkaHeader(key: CloudEventHeader.type, string: Message.typeName)]
        ))
    }

    func stock(_ sku: String, _ quantity: Int) async throws {
        try await send(UpdateInventory(sku: sku, mode: "set", quantity: quantity), to: inventory.commands)
    }

    /// Places an order for `lines` (sku, quantity) at 100 000 VND each.
    func order(_ id: String, _ lines: [(String, Int)], token: String = "tok_visa") async throws {
        let orderLines = lines.map { OrderLine(productId: "p-\($0.0)", sku: $0.0, quantity: $0.1, unitPrice: Money(100_000, "VND")) }
        try await send(CreateOrder(orderId: id, customerId: "\(run)-customer", lines: orderLines, shippingAddress: .example, paymentToken: token), to: orders.commands)
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
