import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Projections
import Streams
import Testing
import TestSupport

@testable import API

/// The read routes over real read models: events are projected into PostgreSQL as the projector
/// would, then read through the router, as their owner, as another customer, as an operator and anonymously.
@Suite(.serialized) struct QueryRouteTests {
    struct World {
        var run = uniqueWord("q")
        var product: String { "\(run)-p" }
        var sku: String { "\(run)-SKU" }
        var customer: String { "\(run)-c" }
        var cart: String { "\(run)-cart" }
        var order: String { "\(run)-o" }
        var payment: String { "\(run)-pay" }
        var shipment: String { "\(run)-ship" }
    }

    static func seed(_ world: World, _ stack: TestStack) async throws {
        let database = try await PostgresConnection.connect(try stack.environment.require("POSTGRES_URL"))
        try await ReadModelSchema.migrate(database)
        var product = ProductCreated.example
        product.productId = world.product
        product.sku = world.sku
        product.name = "Oolong \(world.run)"
        var stock = InventoryUpdated.example
        stock.sku = world.sku
        var customer = CustomerRegistered.example
        customer.customerId = world.customer
        customer.email = "\(world.run)@example.com"
        var address = AddressUpdated.example
        address.customerId = world.customer
        var cart = CartCreated.example
        cart.cartId = world.cart
        cart.customerId = world.customer
        var order = OrderCreated.example
        order.orderId = world.order
        order.customerId = world.customer
        var payment = PaymentProcessed.example
        payment.paymentId = world.payment
        payment.orderId = world.order
        var refund = RefundInitiated.example
        refund.paymentId = world.payment
        refund.orderId = world.order
        var shipment = ShipmentCreated.example
        shipment.shipmentId = world.shipment
        shipment.orderId = world.order
        let events: [(any TopicMessage, String)] = [
            (product, "souk.product.events.v1"), (stock, "souk.inventory.events.v1"), (customer, "souk.customer.events.v1"),
            (address, "souk.customer.events.v1"), (cart, "souk.cart.events.v1"), (order, "souk.order.events.v1"),
            (payment, "souk.payment.events.v1"), (refund, "souk.payment.events.v1"), (shipment, "souk.shipping.events.v1"),
        ]
        let projected = try events.enumerated().map { index, pair in
            ProjectedEvent(
                id: "\(world.run)-e\(index)", type: type(of: pair.0).typeName, topic: pair.1, partition: 0, offset: Int64(index), key: pair.0.key,
                correlationID: "\(world.run)-cmd\(index)", causationID: nil, occurredAt: Date(), payload: try pair.0.encoded()
            )
        }
        try await database.transaction { session in
            for event in projected { try EventProjection.apply(event, in: session) }
        }
    }

    @Test func everyReadAnswersFromTheReadModelsToWhoMaySeeIt() async throws {
        let rig = try await APITestRig()
        let world = World()
        try await Self.seed(world, rig.stack)
        try await rig.test { client in
            let owner = try await rig.customer(world.customer)
            let stranger = try await rig.customer("\(world.run)-stranger")
            // (path, field to check, its value) as the owner
            let owned: [(String, String, String)] = [
                ("/api/customers/\(world.customer)", "email", "\(world.run)@example.com"),
                ("/api/carts/\(world.cart)", "customerId", world.customer),
                ("/api/orders/\(world.order)", "customerId", world.customer),
                ("/api/orders/\(world.order)/status", "status", "reserving"),
                ("/api/payments/\(world.payment)/status", "orderId", world.order),
                ("/api/payments/\(world.payment)/refunds/refund-1", "refundId", "refund-1"),
                ("/api/shipments/order/\(world.order)", "shipmentId", world.shipment),
                ("/api/shipments/\(world.shipment)/track", "shipmentId", world.shipment),
                ("/api/customers/\(world.customer)/addresses", "customerId", world.customer),
                ("/api/orders/\(world.order)/history", "orderId", world.order),
            ]
            for (path, field, value) in owned {
                let mine = try await client.send(.get, path, headers: owner)
                #expect(mine.status == .ok, "\(path): \(mine.body)")
                #expect(mine.json?[field]?.stringValue == value, "\(path): \(mine.body)")
                #expect(try await client.send(.get, path, headers: rig.system).status == .ok, "\(path) for an operator")
                #expect(try await client.send(.get, path).status == .unauthorized, "\(path) anonymously")
                let theirs = try await client.send(.get, path, headers: stranger)
                #expect([.notFound, .forbidden].contains(theirs.status), "\(path) for another customer: \(theirs.status)")
            }
            for path in ["/api/carts/\(world.cart)/total", "/api/carts/\(world.cart)/discounts"] {
                #expect(try await client.send(.get, path, headers: owner).status == .ok, "\(path)")
                #expect(try await client.send(.get, path, headers: stranger).status == .notFound, "\(path)")
            }
            for path in ["/api/orders/customer/\(world.customer)", "/api/customers/\(world.customer)/orders", "/api/payments/customer/\(world.customer)"] {
                let page = try await client.send(.get, path, headers: owner)
                guard case .array(let items)? = page.json?["items"] else { Issue.record("\(path): \(page.body)"); continue }
                #expect(items.count == 1, "\(path)")
                #expect(try await client.send(.get, path, headers: stranger).status == .forbidden)
            }
            #expect(try await client.send(.get, "/api/orders", headers: owner).status == .forbidden)
            #expect(try await client.send(.get, "/api/orders?limit=5", headers: rig.system).status == .ok)

            // The catalog is public.
            let product = try await client.send(.get, "/api/products/\(world.product)")
            #expect(product.json?["sku"]?.stringValue == world.sku)
            #expect(product.headers[HTTPField.Name(ReadModelFreshness.positionHeader)!]?.hasPrefix("souk.product.events.v1") == true)
            let found = try await client.send(.get, "/api/products/search?q=\(world.run.lowercased())")
            guard case .array(let hits)? = found.json?["items"] else { Issue.record("no search hits: \(found.body)"); return }
            #expect(hits.compactMap { $0["productId"]?.stringValue } == [world.product])
            #expect(try await client.send(.get, "/api/inventory/\(world.sku)").json?["available"] == .integer(40))
            #expect(try await client.send(.get, "/api/shipments/estimate?country=VN").json?["days"] == .integer(2))
            #expect(try await client.send(.get, "/api/products?limit=2").status == .ok)
        }
    }

    @Test func badParametersAndMissingThingsAreProblems() async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            let limit = try await client.send(.get, "/api/products?limit=ten")
            #expect(limit.status == .badRequest && limit.json?["field"]?.stringValue == "limit")
            let range = try await client.send(.get, "/api/products?limit=1000")
            #expect(range.status == .unprocessableContent && range.problemType == "invalid-query")
            let sort = try await client.send(.get, "/api/products?sort=random")
            #expect(sort.status == .unprocessableContent)
            let search = try await client.send(.get, "/api/products/search")
            #expect(search.status == .unprocessableContent && search.json?["field"]?.stringValue == "/q")
            let missing = try await client.send(.get, "/api/products/no-such-product-\(UUID().uuidString)")
            #expect(missing.status == .notFound && missing.problemType == "not-found")
            let estimate = try await client.send(.get, "/api/shipments/estimate?country=ZZ")
            #expect(estimate.status == .notFound)
            // A cursor no page gave out is the caller's mistake, not an outage.
            let cases: [(sort: String, cursor: String, status: HTTPResponse.Status)] = [
                ("price", "not-base64!", .badRequest), ("price", Data("x\u{1F}p".utf8).base64EncodedString(), .badRequest),
                ("name", Data("x\u{1F}p".utf8).base64EncodedString(), .ok),
                ("created", Data("1'\n[critical] forged\u{1F}p".utf8).base64EncodedString(), .badRequest),
            ]
            for (sort, cursor, status) in cases {
                let answer = try await client.send(.get, "/api/products?sort=\(sort)&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
                #expect(answer.status == status, "\(sort) \(cursor): \(answer.status)")
            }
            let orders = try await client.send(.get, "/api/orders?cursor=\(Data("yesterday\u{1F}o".utf8).base64EncodedString())", headers: rig.system)
            #expect(orders.status == .badRequest && orders.json?["field"]?.stringValue == "cursor", "\(orders.status)")
        }
    }

    @Test func missingAndNotYoursReadTheSame() async throws {
        let rig = try await APITestRig()
        try await rig.test { client in
            let missing = try await client.send(.get, "/api/orders/no-such-order-\(UUID().uuidString)", headers: try await rig.customer("cust-probe"))
            #expect(missing.status == .notFound && missing.json?["detail"]?.stringValue == "no such resource")
        }
    }
}
