import Catalog
import Contracts
import Kafka
import Streams
import Testing

@Suite struct CatalogRoleTests {
    let role = CatalogRole()
    let commands = "souk.product.commands.v1"

    func harness() -> RoleHarness<CatalogRole> {
        RoleHarness(role, internalTopics: [role.topics.skuClaims, role.topics.skuDecisions])
    }

    func create(_ id: String, sku: String, price: Int = 100) -> CreateProduct {
        CreateProduct(productId: id, sku: sku, name: "Tea \(id)", price: Money(price, "VND"))
    }

    func rejection(_ outputs: [KafkaProducerMessage]) throws -> CommandRejected {
        #expect(outputs.count == 1)
        #expect(outputs.first?.type == CommandRejected.typeName)
        return try #require(outputs.first).decoded(CommandRejected.self)
    }

    @Test func createsAProductAfterClaimingItsSku() async throws {
        var catalog = harness()
        let outputs = try await catalog.send(create("p1", sku: "S1"), topic: commands, id: "cmd-1")
        #expect(outputs.map(\.type) == [ProductCreated.typeName])
        let created = try outputs[0].decoded(ProductCreated.self)
        #expect(created.productId == "p1" && created.sku == "S1" && created.price == Money(100, "VND"))
        #expect(outputs[0].topic == role.topics.events)
        #expect(outputs[0].key == Array("p1".utf8))
        // The whole chain keeps the command id as its correlation id.
        #expect(outputs[0].headers.string(CloudEventHeader.correlationID) == "cmd-1")
    }

    @Test func duplicateSkuIsRejectedWithTheOwner() async throws {
        var catalog = harness()
        _ = try await catalog.send(create("p1", sku: "S1"), topic: commands)
        let rejected = try rejection(try await catalog.send(create("p2", sku: "S1"), topic: commands, id: "cmd-2"))
        #expect(rejected.commandId == "cmd-2")
        #expect(rejected.aggregateId == "p2")
        #expect(rejected.reason == "duplicate SKU S1: product p1 has it")
        #expect(rejected.field == "/sku")
        // p2 can still be created with another SKU.
        #expect(try await catalog.send(create("p2", sku: "S2"), topic: commands).map(\.type) == [ProductCreated.typeName])
    }

    @Test func duplicateProductIdIsRejected() async throws {
        var catalog = harness()
        _ = try await catalog.send(create("p1", sku: "S1"), topic: commands)
        #expect(try rejection(try await catalog.send(create("p1", sku: "S9"), topic: commands)).reason == "product p1 already exists")
    }

    @Test(arguments: [
        (SetProductPrice(productId: "p1", price: Money(-1, "VND")), "price must not be negative"),
        (SetProductPrice(productId: "nope", price: Money(5, "VND")), "unknown product nope"),
    ])
    func badPricesAreRejected(command: SetProductPrice, reason: String) async throws {
        var catalog = harness()
        _ = try await catalog.send(create("p1", sku: "S1"), topic: commands)
        #expect(try rejection(try await catalog.send(command, topic: commands)).reason == reason)
    }

    @Test func negativePriceOnCreateIsRejected() async throws {
        var catalog = harness()
        #expect(try rejection(try await catalog.send(create("p1", sku: "S1", price: -5), topic: commands)).reason == "price must not be negative")
    }

    @Test func priceUpdateAndDeleteFlow() async throws {
        var catalog = harness()
        _ = try await catalog.send(create("p1", sku: "S1"), topic: commands)
        let priced = try await catalog.send(SetProductPrice(productId: "p1", price: Money(90, "VND")), topic: commands)
        let change = try priced[0].decoded(PriceChanged.self)
        #expect(change.oldPrice == Money(100, "VND") && change.newPrice == Money(90, "VND"))
        let updated = try await catalog.send(UpdateProduct(productId: "p1", category: "tea"), topic: commands)
        #expect(try updated[0].decoded(ProductUpdated.self).category == "tea")
        #expect(try updated[0].decoded(ProductUpdated.self).name == "Tea p1")
        #expect(try await catalog.send(DeleteProduct(productId: "p1"), topic: commands).map(\.type) == [ProductDeleted.typeName])
        // Deleted: no more changes, and its SKU stays taken.
        #expect(try rejection(try await catalog.send(SetProductPrice(productId: "p1", price: Money(1, "VND")), topic: commands)).reason == "unknown product p1")
        #expect(try rejection(try await catalog.send(DeleteProduct(productId: "p1"), topic: commands)).reason == "unknown product p1")
        #expect(try rejection(try await catalog.send(create("p9", sku: "S1"), topic: commands)).reason.hasPrefix("duplicate SKU S1"))
    }

    @Test func commandsWhileTheCreationIsPendingAreRejectedWithAHint() async throws {
        // Only the first hop: the claim is not fed back, so the creation stays pending.
        var pending = RoleHarness(role, internalTopics: [])
        _ = try await pending.send(create("p1", sku: "S1"), topic: commands)
        let rejected = try rejection(try await pending.send(DeleteProduct(productId: "p1"), topic: commands))
        #expect(rejected.reason == "product p1 is still being created; retry after its outcome")
    }

    @Test func aCommandThatFailsItsSchemaIsPoisonAndRejected() async throws {
        var catalog = harness()
        let outputs = try await catalog.send(topic: commands, key: "p1", type: CreateProduct.typeName, value: Array(#"{"productId":"p1"}"#.utf8))
        #expect(outputs.map(\.topic) == [role.deadLetterTopic, role.topics.events])
        #expect(outputs[0].headers.string(DeadLetterHeader.reason)?.contains("/sku: is required") == true)
        #expect(try rejection([outputs[1]]).reason.contains("/sku: is required"))
    }
}
