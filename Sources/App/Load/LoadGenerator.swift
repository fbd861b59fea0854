import Commerce
import Contracts
import Foundation
import Kafka
import Logging
import Payments
import Streams
import Synchronization

/// Places orders with realistic carts against a seeded catalog, plays the carrier for their parcels,
/// and reports orders/s, latency to each order's terminal event, and whether the system's invariants
/// held: one terminal state per order, no payment captured twice, no refund above its capture, and per
/// SKU initial stock = available + reserved + sold with nothing left reserved and sold = what was fulfilled.
/// A share of the orders can go through the HTTP API instead of straight onto the command topic, and
/// at the end a fresh restore of the inventory's and the saga's state must agree with the events.
public struct LoadGenerator: Sendable {
    public struct Options: Sendable {
        public var orders: Int
        public var rate: Double
        public var skus: Int
        /// Stock per SKU; `nil`: about what the orders need, so that a few run out.
        public var stock: Int?
        public var declineRate: Double
        public var timeout: Duration
        /// The sandbox provider's journal, to audit charges on the provider's side too.
        public var ledger: URL?
        public var seed: UInt64
        /// The HTTP API's address and the key to write with; `nil`: every order goes to the command topic.
        public var api: API?
        /// Whether to restore the inventory's and the saga's state from their changelogs at the end and
        /// compare it with the events.
        public var verifyState: Bool

        public struct API: Sendable {
            public var base: URL
            public var key: String
            /// Share of the orders placed through the API, 0...1.
            public var share: Double

            /// - Parameter keys: `SOUK_API_KEYS` (`name=key[,name=key…]`); the first key is used.
            public init(base: URL, keys: String, share: Double) throws {
                self.base = base
                self.key = try APIOrderClient.apiKey(fromKeys: keys)
                self.share = share
            }
        }

        public init(
            orders: Int, rate: Double, skus: Int = 20, stock: Int? = nil, declineRate: Double = 0.02, timeout: Duration = .seconds(300), ledger: URL? = nil,
            seed: UInt64 = 42, api: API? = nil, verifyState: Bool = true
        ) {
            self.orders = orders
            self.rate = rate
            self.skus = skus
            self.stock = stock
            self.declineRate = declineRate
            self.timeout = timeout
            self.ledger = ledger
            self.seed = seed
            self.api = api
            self.verifyState = verifyState
        }
    }

    let options: Options
    let bootstrapServers: String
    let logger: Logger
    let run: String

    public init(options: Options, bootstrapServers: String, logger: Logger, run: String = "load-\(UInt64(Date().timeIntervalSince1970))") {
        self.options = options
        self.bootstrapServers = bootstrapServers
        self.logger = logger
        self.run = run
    }

    enum Topics {
        static let productCommands = "souk.product.commands.v1"
        static let inventoryCommands = "souk.inventory.commands.v1"
        static let orderCommands = "souk.order.commands.v1"
        static let shippingCommands = "souk.shipping.commands.v1"
        static let cartCommands = "souk.cart.commands.v1"
        static let watched = ["souk.order.events.v1", "souk.shipping.events.v1", "souk.payment.events.v1", "souk.inventory.events.v1", "souk.cart.events.v1"]
    }

    struct Product {
        var productId: String
        var sku: String
        var price: Money
    }

    public func run() async throws -> LoadReport {
        let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        var partitions: [KafkaTopicPartition] = []
        for topic in Topics.watched {
            guard let description = try await admin.describeTopic(topic) else {
                throw SoukConfigurationError("topic \(topic) does not exist: run `souk topics apply --dir topics` first")
            }
            partitions += (0..<description.partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        }
        // Only what this run causes: start at today's end of every watched partition.
        let ends = try await admin.endOffsets(partitions)
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: "souk-load-\(run)", additional: ["fetch.wait.max.ms": "20"]),
            logger: logger
        )
        try await consumer.assign(partitions.map { KafkaTopicPartitionOffset($0, offset: KafkaOffset(ends[$0] ?? 0)) })
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers), logger: logger)
        let tracker = LoadTracker(run: run)

        var random = SplitMix64(seed: options.seed)
        let products = (0..<options.skus).map { index in
            Product(productId: "\(run)-p\(index)", sku: "\(run)-SKU\(index)", price: Money(20_000 + Int(random.next() % 48) * 10_000, "VND"))
        }
        let stock = options.stock ?? max(10, options.orders * 4 / max(1, options.skus))
        let listen = Task { try await listenLoop(consumer, producer, tracker) }
        defer { listen.cancel() }

        // Seed the catalog and its stock, and wait until the inventory has it all.
        for product in products {
            try await send(producer, CreateProduct(productId: product.productId, sku: product.sku, name: "Load tea \(product.sku)", price: product.price), to: Topics.productCommands)
            try await send(producer, UpdateInventory(sku: product.sku, mode: "set", quantity: stock), to: Topics.inventoryCommands)
        }
        try await producer.flush()
        try await waitUntil("the inventory has the seeded stock", timeout: .seconds(120)) { tracker.stockSeen(products.map(\.sku)) }
        try await waitUntilPriced(products, producer, tracker)
        logger.info("seeded", metadata: ["skus": "\(products.count)", "stock": "\(stock)"])

        // Orders at the requested rate; those for the API each in a child task, so that one retried
        // against a restarting API holds back neither the rate nor the other orders.
        let client = options.api.map { APIOrderClient(base: $0.base, apiKey: $0.key, logger: logger) }
        let clock = ContinuousClock()
        let start = clock.now
        let placement = try await withThrowingTaskGroup(of: Result<Int, APIOrderClient.Rejected>.self) { group in
            var placement = Placement()
            for index in 0..<options.orders {
                let due = start + .seconds(Double(index) / options.rate)
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                let order = makeOrder(index, products, &random)
                tracker.placed(order)
                if let client, Self.throughAPI(index, share: options.api?.share ?? 0) {
                    placement.viaAPI += 1
                    group.addTask {
                        do throws(APIOrderClient.Rejected) { return .success(try await client.place(order)) } catch { return .failure(error) }
                    }
                } else {
                    try await send(producer, order, to: Topics.orderCommands)
                    if index % 100 == 99 { try await producer.flush() }
                }
            }
            try await producer.flush()
            for try await result in group {
                switch result {
                case .success(let attempts): placement.apiAttempts += attempts
                case .failure(let rejected): placement.failures.append(rejected.description)
                }
            }
            return placement
        }
        logger.info("orders placed", metadata: ["orders": "\(options.orders)", "api": "\(placement.viaAPI)", "lost": "\(placement.failures.count)"])

        // An order the API never accepted cannot end; it is a violation of its own, not a reason to wait.
        let placed = options.orders - placement.failures.count
        try? await waitUntil("every order ended", timeout: options.timeout) { tracker.endedCount >= placed }
        let elapsed = tracker.lastEnd.map { $0 - start } ?? (clock.now - start)
        // Compensations (refunds, returned stock) may still be on their way after the terminal events.
        let initial = Dictionary(uniqueKeysWithValues: products.map { ($0.sku, stock) })
        await waitUntilSettled(tracker, initial: initial, timeout: .seconds(150))
        var violations = placement.failures + tracker.orderViolations() + tracker.paymentViolations() + tracker.stockViolations(initial: initial)
        var checks = [
            "one terminal event per ended order (\(tracker.endedCount) orders)",
            "no payment captured twice, no refund above its capture (\(tracker.paymentCount) payments)",
            "per SKU: initial = available + reserved + sold, reserved = 0, sold = fulfilled quantity (\(products.count) SKUs)",
        ]
        let refusals = tracker.refusals
        if !refusals.isEmpty {
            let reasons = refusals.sorted { $0.value > $1.value }.prefix(3).map { "\($0.value) × \($0.key)" }.joined(separator: "; ")
            checks.append("orders refused before they started (CommandRejected of CreateOrder): \(refusals.values.reduce(0, +)): \(reasons)")
        }
        if let ledger = options.ledger {
            violations += try ledgerViolations(ledger)
            checks.append("sandbox gateway ledger: one authorization and at most one capture per payment, refunds ≤ capture")
        }
        if options.verifyState {
            let expected = StateVerifier.Expected(stock: tracker.latestStock, orders: tracker.terminalStates)
            violations += await stateViolations(expected)
            checks.append("a fresh restore of inventory and order-saga state from their changelogs agrees with the events (\(expected.stock.count) SKUs, \(expected.orders.count) orders)")
        }
        let transactions = await openTransactionViolations()
        violations += transactions.violations
        checks.append("every transaction on the flow's topics ended: each partition's last stable offset reached its end (\(transactions.partitions) partitions)")
        if options.api != nil {
            checks.append("\(placement.viaAPI) orders placed through the HTTP API, \(placement.apiAttempts - placement.viaAPI + placement.failures.count) requests retried")
        }
        try? await consumer.close(leavingGroup: false)
        try? await producer.close()

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let latencies = tracker.latencies.sorted()
        return LoadReport(
            run: run, orders: options.orders, ended: tracker.endedCount, seconds: seconds,
            ordersPerSecond: seconds > 0 ? Double(tracker.endedCount) / seconds : 0,
            p50: LoadReport.percentile(latencies, 0.50), p95: LoadReport.percentile(latencies, 0.95), p99: LoadReport.percentile(latencies, 0.99),
            terminal: tracker.terminalCounts, violations: violations, checks: checks, viaAPI: placement.viaAPI
        )
    }

    /// What placing the orders through the API came to.
    struct Placement {
        var viaAPI = 0
        /// Requests made for the orders the API accepted.
        var apiAttempts = 0
        /// Orders the API never accepted (refused for good, or not within the deadline).
        var failures: [String] = []
    }

    /// Spreads the API's share evenly: order `index` goes through the API when it moves `index × share` to the next integer.
    static func throughAPI(_ index: Int, share: Double) -> Bool {
        Int(Double(index + 1) * share) > Int(Double(index) * share)
    }

    /// 1–3 lines of 1–3 items each, and now and then a card that is declined.
    private func makeOrder(_ index: Int, _ products: [Product], _ random: inout SplitMix64) -> CreateOrder {
        let lineCount = 1 + Int(random.next() % 3)
        var chosen: [Product] = []
        while chosen.count < lineCount {
            let product = products[Int(random.next() % UInt64(products.count))]
            if !chosen.contains(where: { $0.sku == product.sku }) { chosen.append(product) }
        }
        let lines = chosen.map { OrderItem(productId: $0.productId, sku: $0.sku, quantity: 1 + Int(random.next() % 3)) }
        let declined = Double(random.next() % 10_000) / 10_000 < options.declineRate
        return CreateOrder(
            orderId: "\(run)-o\(index)", customerId: "\(run)-c\(index % 97)", lines: lines, shippingAddress: .example,
            paymentToken: declined ? "tok_decline_load" : "tok_visa"
        )
    }

    /// The state check's mismatches, at most 20 of them spelled out; a restore that fails is one too.
    private func stateViolations(_ expected: StateVerifier.Expected) async -> [String] {
        do {
            let found = try await StateVerifier(bootstrapServers: bootstrapServers, logger: logger).mismatches(expected)
            return found.count <= 20 ? found : Array(found.prefix(20)) + ["state: … and \(found.count - 20) more mismatches"]
        } catch {
            return ["state: the changelogs could not be restored: \(error)"]
        }
    }

    /// A transaction that never ends holds its partitions for every reader (on the local broker that
    /// can last for good, while the orders still end by their deadlines). Each partition of the flow's
    /// topics must show its last stable offset at its end at some moment within `timeout`: workers still
    /// commit meanwhile, and a kill leaves a transaction open until the successor starts.
    private func openTransactionViolations(timeout: Duration = .seconds(60)) async -> (violations: [String], partitions: Int) {
        do {
            let admin = try KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
            var pending = try await admin.listTopics().filter { $0.name.hasPrefix("souk.") }.flatMap { topic in
                (0..<topic.partitions).map { KafkaTopicPartition(topic: topic.name, partition: Int32($0)) }
            }
            let total = pending.count
            let deadline = ContinuousClock.now + timeout
            while true {
                let held = try await admin.unstablePartitions(pending)
                if held.isEmpty || ContinuousClock.now >= deadline {
                    return (held.map { "transaction never ended: \($0)" }, total)
                }
                pending = held.map(\.partition)
                try await Task.sleep(for: .seconds(1))
            }
        } catch {
            return (["transactions: the partitions could not be read: \(error)"], 0)
        }
    }

    private func ledgerViolations(_ ledger: URL) throws -> [String] {
        let keys = try SandboxPaymentProvider.authorizationKeys(journal: ledger)
        var violations: [String] = []
        var perPayment: [String: Int] = [:]
        for audit in try SandboxPaymentProvider.audit(journal: ledger) {
            guard let key = keys[audit.charge], key.contains(run) else { continue }
            perPayment[key, default: 0] += audit.authorizations
            if audit.captures > 1 { violations.append("gateway: charge \(audit.charge) (\(key)) captured \(audit.captures) times") }
            if audit.refundedMinor > audit.capturedMinor { violations.append("gateway: charge \(audit.charge) refunded \(audit.refundedMinor) > captured \(audit.capturedMinor)") }
        }
        for (key, count) in perPayment where count > 1 { violations.append("gateway: \(key) authorized \(count) times") }
        return violations
    }

    /// Follows the events: ends orders, plays the carrier, keeps payments and stock.
    private func listenLoop(_ consumer: KafkaConsumer, _ producer: KafkaProducer, _ tracker: LoadTracker) async throws {
        while !Task.isCancelled {
            let messages = try await consumer.poll(maxMessages: 2_000, timeout: .milliseconds(50))
            for message in messages {
                guard let key = message.keyString, key.contains(run), let type = message.headers.string(CloudEventHeader.type) else { continue }
                let id = message.headers.string(CloudEventHeader.id) ?? "\(message.topic):\(message.partition):\(message.offset)"
                let value = message.value ?? []
                // The carrier picks up, carries and delivers each assigned parcel.
                if type == CarrierAssigned.typeName, tracker.firstSight(id), let event = try? CarrierAssigned.decode(value) {
                    for status in ["picked_up", "in_transit", "delivered"] {
                        try await send(producer, UpdateShipmentStatus(shipmentId: event.shipmentId, status: status, location: "load"), to: Topics.shippingCommands)
                    }
                    continue
                }
                tracker.observe(
                    LoadTracker.Observed(
                        type: type, id: id, key: key, value: value, partition: KafkaTopicPartition(topic: message.topic, partition: message.partition),
                        offset: message.offset, at: .now
                    )
                )
            }
        }
    }

    /// The orders are priced by the cart role, which learns the catalog's prices from its events: a
    /// probe cart per product, to which the product is added until the cart role knows its price.
    private func waitUntilPriced(_ products: [Product], _ producer: KafkaProducer, _ tracker: LoadTracker) async throws {
        func probe(_ product: Product) -> String { "\(run)-probe-\(product.productId)" }
        for product in products {
            try await send(producer, CreateCart(cartId: probe(product), customerId: "\(run)-probe", currency: product.price.currency), to: Topics.cartCommands)
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let unpriced = products.filter { !tracker.pricedSeen([$0.productId]) }
            if unpriced.isEmpty { return }
            guard ContinuousClock.now < deadline else { throw SoukConfigurationError("the cart role did not price \(unpriced.count) of the seeded products within 120 s") }
            // An add that reached the cart role before the product did is refused: it is sent again.
            for product in unpriced {
                try await send(producer, AddItemToCart(cartId: probe(product), productId: product.productId, quantity: 1), to: Topics.cartCommands)
            }
            try await producer.flush()
            try? await waitUntil("the cart role prices this wave", timeout: .seconds(2)) { tracker.pricedSeen(unpriced.map(\.productId)) }
        }
    }

    private func send<Message: TopicMessage>(_ producer: KafkaProducer, _ message: Message, to topic: String) async throws {
        let record = KafkaProducerMessage(
            topic: topic, key: Array(message.key.utf8), value: try message.encoded(),
            headers: [
                KafkaHeader(key: CloudEventHeader.id, string: "\(run)-\(UUID().uuidString)"), KafkaHeader(key: CloudEventHeader.type, string: Message.typeName),
                KafkaHeader(key: CloudEventHeader.source, string: "souk/load"),
                // An upstream system: its raw provider tokens are taken; its orders carry no prices, so
                // the catalog prices them.
                KafkaHeader(key: SoukHeader.actor, string: "system:load"),
            ]
        )
        try await producer.produce(record)
    }

    /// Waits until the stock adds up. Stock is returned by inventory after the orders ended (releases
    /// of failed orders), so while the roles that return it still have input to read (their groups'
    /// lag), a shortfall is work under way; once they have read everything, a shortfall that stays is
    /// a violation. Each check first leaves out the events of aborted transactions (the local broker
    /// delivers them: a SKU's last InventoryUpdated may be a fenced zombie's).
    private func waitUntilSettled(_ tracker: LoadTracker, initial: [String: Int], timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        let admin = try? KafkaAdminClient(bootstrapServers: bootstrapServers, logger: logger)
        var drainedChecks = 0
        while true {
            do {
                tracker.excludeAborted(try await KafkaAbortedRecords.read(tracker.partitions, bootstrapServers: bootstrapServers))
            } catch {
                logger.warning("could not read which transactions aborted; counting every event", metadata: ["error": "\(error)"])
            }
            if tracker.stockViolations(initial: initial).isEmpty { return }
            if ContinuousClock.now >= deadline {
                logger.warning("the stock does not add up and the roles that return it still had input when the wait ended")
                return
            }
            var drained = admin != nil
            for role in ["order-saga", "timers", "inventory"] {
                // A group that cannot be described counts as not drained: the deadline decides then.
                let lag = try? await admin?.describeGroup("souk-\(role)").totalLag
                if lag != 0 { drained = false }
            }
            drainedChecks = drained ? drainedChecks + 1 : 0
            // Nothing left to read, three checks a second apart: what is still off stays off.
            if drainedChecks >= 3 {
                logger.warning("the stock does not add up after the roles that return it read all their input")
                return
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func waitUntil(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw SoukConfigurationError("timed out after \(timeout) waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

