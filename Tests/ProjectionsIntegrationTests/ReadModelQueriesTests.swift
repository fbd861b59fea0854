import Contracts
import Foundation
import Postgres
import Projections
import Testing
import TestSupport

@Suite(.serialized) struct ReadModelQueriesTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    func database() async throws -> PostgresConnection {
        let database = try await PostgresConnection.connect(try stack.environment.require("POSTGRES_URL"))
        try await ReadModelSchema.migrate(database)
        return database
    }

    /// Applies events straight to the read models, as the projector does.
    func project(_ database: PostgresConnection, _ events: [(type: String, key: String, payload: [UInt8])], run: String) async throws {
        let projected = events.enumerated().map { index, event in
            ProjectedEvent(
                id: "\(run)-\(index)", type: event.type, topic: "t", partition: 0, offset: Int64(index), key: event.key,
                correlationID: "\(run)-cmd-\(index)", causationID: nil, occurredAt: Date(timeIntervalSince1970: 1_795_000_000 + Double(index)),
                payload: event.payload
            )
        }
        try await database.transaction { session in
            for event in projected { try EventProjection.apply(event, in: session) }
        }
    }

    func created(_ id: String, _ name: String, _ price: Int, category: String) throws -> (type: String, key: String, payload: [UInt8]) {
        let event = ProductCreated(productId: id, sku: "\(id)-sku", name: name, category: category, price: Money(price, "VND"), attributes: [:], createdAt: Date(timeIntervalSince1970: 1_795_000_000))
        return (ProductCreated.typeName, id, try event.encoded())
    }

    @Test func listFiltersSortsAndPaginatesWithoutGapsOrRepeats() async throws {
        let database = try await database()
        let run = uniqueName("list")
        let prices = [("a", 500), ("b", 100), ("c", 300), ("d", 1_000), ("e", 200)]
        try await project(database, try prices.map { try created("\(run)-\($0.0)", "Tea \($0.0)", $0.1, category: run) }, run: run)
        let queries = ReadModelQueries(database: database)
        var seen: [Int] = []
        var cursor: String?
        repeat {
            let page = try await queries.products(ListProducts(category: run, sort: "price", cursor: cursor, limit: 2))
            seen += page.items.map(\.price.amountMinor)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == [100, 200, 300, 500, 1_000])
        let expensiveFirst = try await queries.products(ListProducts(category: run, sort: "-price", limit: 2))
        #expect(expensiveFirst.items.map(\.price.amountMinor) == [1_000, 500])
        let range = try await queries.products(ListProducts(category: run, minPriceMinor: 200, maxPriceMinor: 500))
        #expect(Set(range.items.map(\.price.amountMinor)) == [200, 300, 500])
        #expect(range.nextCursor == nil)
    }

    @Test(arguments: ["oolong", "olong", "Oloong tea", "rosted"])
    func searchToleratesTypos(query: String) async throws {
        let database = try await database()
        let run = uniqueName("search")
        let product = ProductCreated(
            productId: "\(run)-p", sku: "\(run)-s", name: "Oolong \(run)", description: "Roasted leaves", category: "tea",
            price: Money(1, "VND"), attributes: [:], createdAt: Date()
        )
        try await project(database, [(ProductCreated.typeName, product.productId, try product.encoded())], run: run)
        let found = try await ReadModelQueries(database: database).search(SearchProducts(q: query, limit: 100))
        #expect(found.contains { $0.productId == product.productId }, "\(query)")
    }

    @Test func searchDoesNotMatchUnrelatedWords() async throws {
        let database = try await database()
        let run = uniqueName("nomatch")
        let product = ProductCreated(
            productId: "\(run)-p", sku: "\(run)-s", name: "Jasmine \(run)", category: "tea", price: Money(1, "VND"), attributes: [:], createdAt: Date()
        )
        try await project(database, [(ProductCreated.typeName, product.productId, try product.encoded())], run: run)
        let queries = ReadModelQueries(database: database)
        #expect(try await queries.search(SearchProducts(q: "espresso machine", limit: 100)).allSatisfy { $0.productId != product.productId })
        // Earlier runs' products in the same database are near misses of the query too: this one ranks first.
        let found = try await queries.search(SearchProducts(q: "jasmin \(run)", limit: 100)).map(\.productId)
        #expect(found.first == product.productId, "\(found)")
        #expect(found.allSatisfy { $0.hasPrefix("nomatch-") }, "\(found)")
    }

    @Test func deletedProductsAreFoundByIDButNotListedOrSearched() async throws {
        let database = try await database()
        let run = uniqueName("deleted")
        let deleted = ProductDeleted(productId: "\(run)-p", sku: "\(run)-p-sku", deletedAt: Date())
        try await project(database, [try created("\(run)-p", "Vanished \(run)", 10, category: run), (ProductDeleted.typeName, deleted.productId, try deleted.encoded())], run: run)
        let queries = ReadModelQueries(database: database)
        #expect(try await queries.product(GetProduct(productId: "\(run)-p"))?.deleted == true)
        #expect(try await queries.products(ListProducts(category: run)).items.isEmpty)
        #expect(try await queries.search(SearchProducts(q: "Vanished \(run)")).isEmpty)
    }

    @Test func customerCartInventoryAndOutcomeQueries() async throws {
        let database = try await database()
        let run = uniqueName("q")
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let home = Address(addressId: "home", recipient: "Lan", line1: "1 St", city: "Hue", postalCode: "530000", country: "VN")
        let totals = CartTotals(subtotal: Money(238_000, "VND"), discount: Money(23_800, "VND"), total: Money(214_200, "VND"))
        let events: [(type: String, key: String, payload: [UInt8])] = [
            (CustomerRegistered.typeName, "\(run)-c", try CustomerRegistered(customerId: "\(run)-c", email: "a@b.co", name: "Lan", registeredAt: at).encoded()),
            (AddressUpdated.typeName, "\(run)-c", try AddressUpdated(customerId: "\(run)-c", address: home, defaultAddressId: "home", updatedAt: at).encoded()),
            (BillingInfoUpdated.typeName, "\(run)-c", try BillingInfoUpdated(customerId: "\(run)-c", paymentMethodToken: "pm_1", brand: "visa", last4: "4242", expiryMonth: 8, expiryYear: 2029, updatedAt: at).encoded()),
            (InventoryUpdated.typeName, "\(run)-sku", try InventoryUpdated(sku: "\(run)-sku", available: 7, reserved: 2, sold: 1, updatedAt: at).encoded()),
            (CartCreated.typeName, "\(run)-k", try CartCreated(cartId: "\(run)-k", customerId: "\(run)-c", currency: "VND", createdAt: at).encoded()),
            (ItemAdded.typeName, "\(run)-k", try ItemAdded(cartId: "\(run)-k", productId: "p1", sku: "s1", name: "Tea", quantity: 2, unitPrice: Money(119_000, "VND"), totals: CartTotals(subtotal: Money(238_000, "VND"), discount: Money(0, "VND"), total: Money(238_000, "VND"))).encoded()),
            (CouponApplied.typeName, "\(run)-k", try CouponApplied(cartId: "\(run)-k", couponCode: "TEN", discount: Money(23_800, "VND"), totals: totals).encoded()),
            (CommandRejected.typeName, "\(run)-k", try CommandRejected(commandId: "\(run)-bad", commandType: ApplyCoupon.typeName, aggregateId: "\(run)-k", reason: "coupon reached its usage limit of 1", field: "/couponCode").encoded()),
        ]
        try await project(database, events, run: run)
        let queries = ReadModelQueries(database: database)
        let profile = try #require(try await queries.customerProfile(GetCustomerProfile(customerId: "\(run)-c")))
        #expect(profile.defaultAddressId == "home")
        #expect(profile.paymentMethod == ["paymentMethodToken": "pm_1", "brand": "visa", "last4": "4242", "expiry": "08/2029"])
        #expect(try await queries.customerAddresses(GetCustomerAddresses(customerId: "\(run)-c"))?.addresses == [home])
        #expect(try await queries.inventoryLevel(GetInventoryLevel(sku: "\(run)-sku")) == InventoryLevelView(sku: "\(run)-sku", available: 7, reserved: 2, sold: 1))
        let cart = try #require(try await queries.cart(GetCart(cartId: "\(run)-k")))
        #expect(cart.items == [CartView.Item(productId: "p1", sku: "s1", name: "Tea", quantity: 2, unitPrice: Money(119_000, "VND"))])
        #expect(try await queries.cartTotal(GetCartTotal(cartId: "\(run)-k")) == totals)
        #expect(try await queries.appliedDiscounts(GetAppliedDiscounts(cartId: "\(run)-k"))?.discounts == [.init(couponCode: "TEN", amount: Money(23_800, "VND"))])
        #expect(try await queries.commandOutcome("\(run)-cmd-0")?.status == "applied")
        let rejected = try #require(try await queries.commandOutcome("\(run)-bad"))
        #expect(rejected.status == "rejected" && rejected.field == "/couponCode")
        #expect(try await queries.cart(GetCart(cartId: "\(run)-missing")) == nil)
    }
}
