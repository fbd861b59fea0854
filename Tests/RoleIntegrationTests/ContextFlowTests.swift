import Carts
import Catalog
import Commerce
import Contracts
import Customers
import Foundation
import Kafka
import Logging
import Postgres
import Projections
import Redis
import ServiceLifecycle
import Streams
import Testing
import TestSupport

/// Commands of the catalog, customer and cart contexts through the real broker and the roles'
/// workers, including their repartition hops, to the events that answer them.
@Suite(.serialized) struct ContextFlowTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func catalogCustomerAndCartCommandsFlowToTheirEvents() async throws {
        let run = uniqueName("flow")
        var catalogTopics = CatalogRole.Topics()
        var customerTopics = CustomerRole.Topics()
        var cartTopics = CartRole.Topics()
        catalogTopics.commands = "\(run).product.commands"
        catalogTopics.events = "\(run).product.events"
        catalogTopics.skuClaims = "\(run).sku-claims"
        catalogTopics.skuDecisions = "\(run).sku-decisions"
        customerTopics.commands = "\(run).customer.commands"
        customerTopics.events = "\(run).customer.events"
        customerTopics.emailClaims = "\(run).email-claims"
        customerTopics.emailDecisions = "\(run).email-decisions"
        cartTopics.commands = "\(run).cart.commands"
        cartTopics.events = "\(run).cart.events"
        cartTopics.productEvents = catalogTopics.events
        cartTopics.priceRequests = "\(run).price-requests"
        cartTopics.priceReplies = "\(run).price-replies"
        cartTopics.couponClaims = "\(run).coupon-claims"
        cartTopics.couponDecisions = "\(run).coupon-decisions"
        let topics = [
            catalogTopics.commands, catalogTopics.events, catalogTopics.skuClaims, catalogTopics.skuDecisions,
            customerTopics.commands, customerTopics.events, customerTopics.emailClaims, customerTopics.emailDecisions,
            cartTopics.commands, cartTopics.events, cartTopics.priceRequests, cartTopics.priceReplies, cartTopics.couponClaims,
            cartTopics.couponDecisions,
        ]
        let admin = try stack.admin()
        try await admin.createTopics(topics.map { KafkaNewTopic(name: $0, partitions: 3) })
        try await eventually("the topics exist") { try await admin.listTopics().filter { topics.contains($0.name) }.count == topics.count }

        let configuration = StreamConfiguration(
            bootstrapServers: stack.bootstrapServers, timings: stack.timings, commitInterval: .milliseconds(20), leaveGroupOnClose: false
        )
        let coupons = [Coupon(code: "WELCOME10", discount: .percentage(basisPoints: 1_000), usageLimit: 5)]
        let workers: [any Service] = [
            StreamWorker(role: CatalogRole(name: "\(run)-catalog", topics: catalogTopics), configuration: configuration, logger: stack.logger),
            StreamWorker(role: CustomerRole(name: "\(run)-customer", topics: customerTopics), configuration: configuration, logger: stack.logger),
            StreamWorker(role: CartRole(name: "\(run)-cart", coupons: coupons, topics: cartTopics), configuration: configuration, logger: stack.logger),
        ]
        let projectorName = "\(run)-readmodels"
        let projector = ProjectorWorker(
            name: projectorName, topics: [catalogTopics.events, customerTopics.events, cartTopics.events], bootstrapServers: stack.bootstrapServers,
            timings: stack.timings, postgresURL: try stack.environment.require("POSTGRES_URL"), redisURL: try stack.environment.require("REDIS_URL"),
            leaveGroupOnClose: false, logger: stack.logger
        )
        let tasks = (workers + [projector]).map { worker in Task { try await worker.run() } }
        defer { tasks.forEach { $0.cancel() } }

        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        func send<Message: TopicMessage>(_ message: Message, to topic: String, id: String) async throws {
            _ = try await producer.send(
                KafkaProducerMessage(
                    topic: topic, key: Array(message.key.utf8), value: try message.encoded(),
                    headers: [KafkaHeader(key: CloudEventHeader.id, string: "\(run)-\(id)"), KafkaHeader(key: CloudEventHeader.type, string: Message.typeName)]
                )
            )
        }

        let (p1, p2, p3, p4) = ("\(run)-p1", "\(run)-p2", "\(run)-p3", "\(run)-p4")
        let (u1, u2, k1) = ("\(run)-u1", "\(run)-u2", "\(run)-k1")
        // Two products and a customer first; then a duplicate SKU, a negative price, a duplicate e-mail, a card number.
        try await send(CreateProduct(productId: p1, sku: "S1", name: "Oolong", price: Money(119_000, "VND")), to: catalogTopics.commands, id: "c-p1")
        try await send(CreateProduct(productId: p2, sku: "S2", name: "Sencha", price: Money(90_000, "VND")), to: catalogTopics.commands, id: "c-p2")
        try await send(RegisterCustomer(customerId: u1, email: "lan.\(run)@example.com", name: "Lan"), to: customerTopics.commands, id: "c-u1")
        // Claims on different partitions race; the duplicates go once the first claims are decided.
        _ = try await readEvents(catalogTopics.events, count: 2)
        _ = try await readEvents(customerTopics.events, count: 1)
        try await send(CreateProduct(productId: p3, sku: "S1", name: "Copy", price: Money(1, "VND")), to: catalogTopics.commands, id: "c-p3")
        try await send(SetProductPrice(productId: p2, price: Money(-5, "VND")), to: catalogTopics.commands, id: "c-neg")
        try await send(RegisterCustomer(customerId: u2, email: "LAN.\(run)@example.com", name: "Other"), to: customerTopics.commands, id: "c-u2")
        let pan = UpdateBillingInfo(customerId: u1, paymentMethodToken: "4242 4242 4242 4242", brand: "visa", last4: "4242", expiryMonth: 1, expiryYear: 2030)
        try await send(pan, to: customerTopics.commands, id: "c-pan")

        let productEvents = try await readEvents(catalogTopics.events, count: 4)
        #expect(productEvents["c-p1"] == ProductCreated.typeName)
        #expect(productEvents["c-p2"] == ProductCreated.typeName)
        #expect(productEvents["c-p3"] == CommandRejected.typeName)
        #expect(productEvents["c-neg"] == CommandRejected.typeName)
        let customerEvents = try await readEvents(customerTopics.events, count: 3)
        #expect(customerEvents == ["c-u1": CustomerRegistered.typeName, "c-u2": CommandRejected.typeName, "c-pan": CommandRejected.typeName])

        // Carts: prices come from the catalog's events through the price lookup.
        try await send(CreateCart(cartId: k1, customerId: u1, currency: "VND"), to: cartTopics.commands, id: "c-k1")
        try await eventually("the cart exists") { try await readEvents(cartTopics.events, count: 1)["c-k1"] != nil }
        try await send(AddItemToCart(cartId: k1, productId: p1, quantity: 2), to: cartTopics.commands, id: "c-add1")
        try await send(AddItemToCart(cartId: k1, productId: p3, quantity: 1), to: cartTopics.commands, id: "c-add3")
        try await eventually("items are added") { try await readEvents(cartTopics.events, count: 3).count >= 3 }
        try await send(ApplyCoupon(cartId: k1, couponCode: "WELCOME10"), to: cartTopics.commands, id: "c-coupon")
        var cartEvents: [String: (type: String, value: [UInt8])] = [:]
        try await eventually("the coupon is applied") {
            cartEvents = try await readEventRecords(cartTopics.events)
            return cartEvents["c-coupon"] != nil
        }
        #expect(cartEvents["c-add1"]?.type == ItemAdded.typeName)
        #expect(cartEvents["c-add3"]?.type == CommandRejected.typeName)
        let applied = try CouponApplied.decode(try #require(cartEvents["c-coupon"]).value)
        #expect(applied.totals == CartTotals(subtotal: Money(238_000, "VND"), discount: Money(23_800, "VND"), total: Money(214_200, "VND")))

        // The rest of the three contexts' commands.
        try await send(UpdateProduct(productId: p1, description: "Roasted oolong"), to: catalogTopics.commands, id: "c-upd")
        try await send(SetProductPrice(productId: p2, price: Money(80_000, "VND")), to: catalogTopics.commands, id: "c-price")
        try await send(CreateProduct(productId: p4, sku: "S4", name: "Old stock", price: Money(1_000, "VND")), to: catalogTopics.commands, id: "c-p4")
        // A client follows a command's outcome before sending one that depends on it.
        try await eventually("p4 exists") { try await readEventRecords(catalogTopics.events)["c-p4"] != nil }
        try await send(DeleteProduct(productId: p4), to: catalogTopics.commands, id: "c-del")
        try await send(UpdateCustomerProfile(customerId: u1, phone: "+84 90 123 4567"), to: customerTopics.commands, id: "c-prof")
        let home = Address(addressId: "home", recipient: "Lan", line1: "12 Hang Bac", city: "Ha Noi", postalCode: "100000", country: "VN")
        try await send(UpdateShippingAddress(customerId: u1, address: home, makeDefault: true), to: customerTopics.commands, id: "c-addr")
        let billing = UpdateBillingInfo(customerId: u1, paymentMethodToken: "pm_tok_1", brand: "visa", last4: "4242", expiryMonth: 8, expiryYear: 2029)
        try await send(billing, to: customerTopics.commands, id: "c-bill")
        try await send(AddItemToCart(cartId: k1, productId: p2, quantity: 1), to: cartTopics.commands, id: "c-add2")
        try await eventually("p2 is in the cart") { try await readEventRecords(cartTopics.events)["c-add2"] != nil }
        try await send(UpdateQuantity(cartId: k1, productId: p1, quantity: 3), to: cartTopics.commands, id: "c-qty")
        try await send(RemoveItemFromCart(cartId: k1, productId: p2), to: cartTopics.commands, id: "c-rm")
        // A command that fails its schema goes to the dead-letter topic, and its outcome is a rejection.
        _ = try await producer.send(
            KafkaProducerMessage(
                topic: catalogTopics.commands, key: Array(p1.utf8), value: Array(#"{"productId":"\#(p1)"}"#.utf8),
                headers: [KafkaHeader(key: CloudEventHeader.id, string: "\(run)-c-poison"), KafkaHeader(key: CloudEventHeader.type, string: CreateProduct.typeName)]
            )
        )

        // Every command reaches a read model: rows, outcomes and the cache.
        let database = try await PostgresConnection.connect(try stack.environment.require("POSTGRES_URL"))
        try await ReadModelSchema.migrate(database)
        let queries = ReadModelQueries(database: database)
        let cached = CachedQueries(queries: queries, cache: ReadCache(redis: try await RedisConnection.connect(try stack.environment.require("REDIS_URL"))))
        let commandIDs = ["c-p1", "c-p2", "c-p3", "c-neg", "c-u1", "c-u2", "c-pan", "c-k1", "c-add1", "c-add3", "c-coupon", "c-upd", "c-price", "c-p4", "c-del", "c-prof", "c-addr", "c-bill", "c-add2", "c-qty", "c-rm", "c-poison"]
        try await eventually("every command has an outcome in the read models", timeout: .seconds(60)) {
            var missing: [String] = []
            for id in commandIDs where try await queries.commandOutcome("\(run)-\(id)") == nil { missing.append(id) }
            return missing.isEmpty
        }
        for id in ["c-p3", "c-neg", "c-u2", "c-pan", "c-add3", "c-poison"] { #expect(try await queries.commandOutcome("\(run)-\(id)")?.status == "rejected", "\(id)") }
        let poison = try await queries.commandOutcome("\(run)-c-poison")
        #expect(poison?.reason?.contains("went to souk.\(run)-catalog.dlq.v1") == true && poison?.reason?.contains("/sku: is required") == true, "\(String(describing: poison))")
        try await eventually("the cart's last change is projected", timeout: .seconds(30)) {
            try await queries.cart(GetCart(cartId: k1))?.items.map(\.productId) == [p1]
        }
        #expect(try await cached.product(GetProduct(productId: p1))?.description == "Roasted oolong")
        #expect(try await cached.product(GetProduct(productId: p2))?.price == Money(80_000, "VND"))
        #expect(try await queries.product(GetProduct(productId: p4))?.deleted == true)
        let profile = try await queries.customerProfile(GetCustomerProfile(customerId: u1))
        #expect(profile?.phone == "+84 90 123 4567" && profile?.defaultAddressId == "home" && profile?.paymentMethod?["last4"] == "4242")
        #expect(try await queries.customerAddresses(GetCustomerAddresses(customerId: u1))?.addresses == [home])
        let cart = try await queries.cart(GetCart(cartId: k1))
        #expect(cart?.items.first?.quantity == 3 && cart?.couponCode == "WELCOME10")
        #expect(try await cached.cartTotal(GetCartTotal(cartId: k1)) == CartTotals(subtotal: Money(357_000, "VND"), discount: Money(35_700, "VND"), total: Money(321_300, "VND")))
        #expect(try await queries.appliedDiscounts(GetAppliedDiscounts(cartId: k1))?.discounts.first?.amount == Money(35_700, "VND"))
        #expect(try await queries.search(SearchProducts(q: "olong")).contains { $0.productId == p1 })
        try await producer.close()
    }

    /// Events by the command that caused them (the chain's correlation id), deduplicated by `ce_id`.
    func readEvents(_ topic: String, count: Int) async throws -> [String: String] {
        var events: [String: String] = [:]
        try await eventually("\(count) outcomes on \(topic)", timeout: .seconds(60)) {
            events = try await readEventRecords(topic).mapValues(\.type)
            return events.count >= count
        }
        return events
    }

    func readEventRecords(_ topic: String) async throws -> [String: (type: String, value: [UInt8])] {
        let consumer = try KafkaConsumer(configuration: stack.consumerConfiguration(group: uniqueName("read")), logger: stack.logger)
        try await consumer.subscribe(topics: [topic])
        var records: [String: (type: String, value: [UInt8])] = [:]
        let deadline = ContinuousClock.now + .seconds(8)
        var quietPolls = 0
        while ContinuousClock.now < deadline && quietPolls < 10 {
            let batch = try await consumer.poll(maxMessages: 1000, timeout: .milliseconds(200))
            let assigned = !(try await consumer.assignment()).isEmpty
            quietPolls = batch.isEmpty && assigned ? quietPolls + 1 : 0
            for message in batch {
                guard let correlation = message.headers.string(CloudEventHeader.correlationID), let type = message.headers.string(CloudEventHeader.type) else { continue }
                // Command ids carry the run's prefix; the test names them without it.
                let command = correlation.split(separator: "-c-", maxSplits: 1).last.map { "c-" + $0 } ?? correlation
                records[command] = (type, message.value ?? [])
            }
        }
        try await consumer.close(leavingGroup: false)
        return records
    }
}
