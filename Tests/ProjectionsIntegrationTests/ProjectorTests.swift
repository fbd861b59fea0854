import Contracts
import Foundation
import Kafka
import Postgres
import Projections
import Streams
import Testing
import TestSupport

@Suite(.serialized) struct ProjectorTests {
    let stack: TestStack
    let postgresURL: String

    init() throws {
        stack = try TestStack.load()
        postgresURL = try stack.environment.require("POSTGRES_URL")
    }

    func event<Message: TopicMessage>(_ message: Message, topic: String, id: String, correlation: String? = nil) throws -> KafkaProducerMessage {
        var headers: KafkaHeaders = [
            KafkaHeader(key: CloudEventHeader.id, string: id), KafkaHeader(key: CloudEventHeader.type, string: Message.typeName),
            KafkaHeader(key: CloudEventHeader.time, string: "2026-11-25T10:00:00.000Z"),
        ]
        if let correlation { headers.append(KafkaHeader(key: CloudEventHeader.correlationID, string: correlation)) }
        return KafkaProducerMessage(topic: topic, key: Array(message.key.utf8), value: try message.encoded(), headers: headers)
    }

    /// A projector named `name` on `topic`, running in a task, and a connection to its database.
    func startProjector(_ name: String, topic: String) async throws -> (Task<Void, any Error>, PostgresConnection) {
        let projector = ProjectorWorker(
            name: name, topics: [topic], bootstrapServers: stack.bootstrapServers, timings: stack.timings, postgresURL: postgresURL,
            leaveGroupOnClose: false, logger: stack.logger
        )
        let task = Task { try await projector.run() }
        let database = try await PostgresConnection.connect(postgresURL)
        try await ReadModelSchema.migrate(database)
        return (task, database)
    }

    @Test func eventsBecomeReadModelsOnceEach() async throws {
        let topic = try await stack.freshTopic("events", partitions: 3)
        let run = uniqueName("pm")
        let product = "\(run)-p", customer = "\(run)-c", cart = "\(run)-k"
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let address = Address(addressId: "home", recipient: "Lan", line1: "1 St", city: "Hue", postalCode: "530000", country: "VN")
        let work = Address(addressId: "work", recipient: "Lan", line1: "2 St", city: "Hue", postalCode: "530000", country: "VN")
        let events = [
            try event(ProductCreated(productId: product, sku: "\(run)-S", name: "Oolong tea", category: "tea", price: Money(125_000, "VND"), attributes: [:], createdAt: at), topic: topic, id: "\(run)-1", correlation: "\(run)-cmd-1"),
            try event(PriceChanged(productId: product, sku: "\(run)-S", oldPrice: Money(125_000, "VND"), newPrice: Money(119_000, "VND"), changedAt: at), topic: topic, id: "\(run)-2"),
            try event(CustomerRegistered(customerId: customer, email: "\(run)@example.com", name: "Lan", registeredAt: at), topic: topic, id: "\(run)-3"),
            try event(AddressUpdated(customerId: customer, address: address, defaultAddressId: "home", updatedAt: at), topic: topic, id: "\(run)-4"),
            try event(AddressUpdated(customerId: customer, address: work, defaultAddressId: "work", updatedAt: at), topic: topic, id: "\(run)-5"),
            try event(CartCreated(cartId: cart, customerId: customer, currency: "VND", createdAt: at), topic: topic, id: "\(run)-6"),
            try event(ItemAdded(cartId: cart, productId: product, sku: "\(run)-S", name: "Oolong tea", quantity: 2, unitPrice: Money(119_000, "VND"), totals: CartTotals(subtotal: Money(238_000, "VND"), discount: Money(0, "VND"), total: Money(238_000, "VND"))), topic: topic, id: "\(run)-7"),
            try event(CouponApplied(cartId: cart, couponCode: "WELCOME10", discount: Money(23_800, "VND"), totals: CartTotals(subtotal: Money(238_000, "VND"), discount: Money(23_800, "VND"), total: Money(214_200, "VND"))), topic: topic, id: "\(run)-8"),
            try event(CommandRejected(commandId: "\(run)-cmd-9", commandType: SetProductPrice.typeName, aggregateId: product, reason: "price must not be negative"), topic: topic, id: "\(run)-9"),
        ]
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        for record in events { _ = try await producer.send(record) }
        // A redelivered copy (same id) of the price change, as a leaked aborted transaction would make.
        _ = try await producer.send(events[1])
        try await producer.close()

        let (task, database) = try await startProjector(run, topic: topic)
        defer { task.cancel() }
        try await eventually("every event is archived", timeout: .seconds(60)) {
            try await database.query("SELECT count(*) AS n FROM event_archive WHERE event_id LIKE $1", ["\(run)-%"])[0, "n"] == "9"
        }
        try await eventually("the positions are stored") {
            try await database.query("SELECT sum(next_offset) AS n FROM projection_positions WHERE projector = $1", [run])[0, "n"] == "10"
        }
        let productRow = try await database.query("SELECT price_minor, currency, category FROM products WHERE product_id = $1", [product])
        #expect(productRow[0, "price_minor"] == "119000" && productRow[0, "currency"] == "VND" && productRow[0, "category"] == "tea")
        let search = try await database.query("SELECT product_id FROM products WHERE search @@ websearch_to_tsquery('simple', 'oolong') AND product_id = $1", [product])
        #expect(search.count == 1)
        let customerRow = try await database.query("SELECT default_address_id FROM customers WHERE customer_id = $1", [customer])
        #expect(customerRow[0, "default_address_id"] == "work")
        #expect(try await database.query("SELECT address_id FROM customer_addresses WHERE customer_id = $1 ORDER BY address_id", [customer]).rows == [["home"], ["work"]])
        let cartRow = try await database.query("SELECT subtotal_minor, discount_minor, total_minor, coupon_code, items->$2->>'quantity' AS quantity FROM carts WHERE cart_id = $1", [cart, product])
        #expect(cartRow.rows == [["238000", "23800", "214200", "WELCOME10", "2"]])
        let outcomes = try await database.query("SELECT command_id, status FROM command_outcomes WHERE command_id IN ($1, $2) ORDER BY command_id", ["\(run)-cmd-1", "\(run)-cmd-9"])
        #expect(outcomes.rows == [["\(run)-cmd-1", "applied"], ["\(run)-cmd-9", "rejected"]])
    }

    @Test func anEventTheReadModelsCannotTakeIsSetAsideAndTheProjectorGoesOn() async throws {
        let topic = try await stack.freshTopic("poison", partitions: 1)
        let run = uniqueName("poison")
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        func product(_ suffix: String, weight: Int? = nil) throws -> KafkaProducerMessage {
            try event(
                ProductCreated(productId: "\(run)-\(suffix)", sku: "\(run)-S\(suffix)", name: "Tea", price: Money(1_000, "VND"), weightGrams: weight, attributes: [:], createdAt: at),
                topic: topic, id: "\(run)-\(suffix)"
            )
        }
        var garbage = try product("garbage")
        garbage.value = Array("not json".utf8)
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        // Too heavy for the read model's column, and a payload that is not its type, between two good ones.
        for record in [try product("a"), try product("heavy", weight: 3_000_000_000), garbage, try product("b")] { _ = try await producer.send(record) }
        let (task, database) = try await startProjector(run, topic: topic)
        defer { task.cancel() }
        try await eventually("the good events are applied", timeout: .seconds(60)) {
            try await database.query("SELECT count(*) AS n FROM products WHERE product_id IN ($1, $2)", ["\(run)-a", "\(run)-b"])[0, "n"] == "2"
        }
        let setAside = try await database.query("SELECT event_id, kafka_offset FROM projection_dead_letters WHERE projector = $1 ORDER BY kafka_offset", [run])
        #expect(setAside.rows == [["\(run)-heavy", "1"], ["\(run)-garbage", "2"]])
        #expect(try await database.query("SELECT count(*) AS n FROM event_archive WHERE event_id IN ($1, $2)", ["\(run)-heavy", "\(run)-garbage"])[0, "n"] == "0")
        // And it goes on.
        _ = try await producer.send(try product("c"))
        try await producer.close()
        try await eventually("a later event is applied", timeout: .seconds(60)) {
            try await database.query("SELECT count(*) AS n FROM products WHERE product_id = $1", ["\(run)-c"])[0, "n"] == "1"
        }
        #expect(try await database.query("SELECT next_offset FROM projection_positions WHERE projector = $1", [run])[0, "next_offset"] == "5")
    }

    /// SIGKILLs the projector process while it applies batches: afterwards every event is applied,
    /// none twice, and the stored positions match what was produced.
    @Test func killingTheProjectorMidBatchLosesNothingAndAppliesNothingTwice() async throws {
        let topic = try await stack.freshTopic("inventory-events", partitions: 3)
        let run = uniqueName("kill")
        let total = 3000, skus = 200
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent(run)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var starts = 0
        func startProjector() throws -> ChildProcess {
            starts += 1
            return try ChildProcess(
                executable: "souk",
                arguments: ["run", "--role", "projector", "--http-port", "0"],
                environment: ["SOUK_PROJECTOR_TOPICS": topic, "SOUK_LOG_LEVEL": "info"],
                logFile: logs.appendingPathComponent("projector-\(starts).log")
            )
        }
        var projector = try startProjector()
        let production = Task {
            for index in 0..<total {
                let sku = "\(run)-\(index % skus)"
                let event = InventoryUpdated(sku: sku, available: index, reserved: 0, sold: 0, updatedAt: Date(timeIntervalSince1970: 1_795_000_000))
                try await producer.produce(try self.event(event, topic: topic, id: "\(run)-\(index)"))
                if index % 300 == 299 {
                    try await producer.flush()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try await producer.flush()
        }
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 700...1500)))
            projector.kill()
            try await projector.waitForExit()
            projector = try startProjector()
        }
        try await production.value
        let database = try await PostgresConnection.connect(postgresURL)
        try await ReadModelSchema.migrate(database)
        try await eventually("every event is archived (logs: \(logs.path))", timeout: .seconds(90)) {
            try await database.query("SELECT count(*) AS n FROM event_archive WHERE event_id LIKE $1", ["\(run)-%"])[0, "n"] == String(total)
        }
        // Each SKU shows its last event: the one with the highest index for it.
        let levels = try await database.query("SELECT sku, available FROM inventory_levels WHERE sku LIKE $1", ["\(run)-%"])
        #expect(levels.count == skus)
        for row in levels.records {
            let sku = (row["sku"] ?? nil) ?? ""
            let index = Int(sku.split(separator: "-").last!)!
            #expect((row["available"] ?? nil) == String(total - skus + index), "\(sku)")
        }
        projector.terminate()
        try await projector.waitForExit()
        try await producer.close()
    }
}
