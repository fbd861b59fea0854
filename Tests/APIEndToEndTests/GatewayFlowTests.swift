import Contracts
import Foundation
import JWTKit
import Testing
import TestSupport

@testable import API

/// A customer's whole journey through nginx, the API and every role on the broker, only over HTTP:
/// register, fill a cart, apply a coupon, order, and follow the order to fulfilled (an operator's key
/// plays the carrier). Then the gateway's own answers: request ids, 429 past the rate, JSON 503
/// without an API instance.
@Suite(.serialized) struct GatewayFlowTests {
    let stack: TestStack
    let scratch: URL
    let apiPort: Int

    init() throws {
        stack = try TestStack.load()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("e2e"))
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        apiPort = try freePort()
    }

    var operatorHeaders: [String: String] {
        get throws {
            let keys = try stack.environment.require("SOUK_API_KEYS")
            let secret = String(keys.split(separator: ",")[0].split(separator: "=", maxSplits: 1)[1])
            return ["X-API-Key": secret, "Content-Type": "application/json"]
        }
    }

    func customerHeaders(_ customer: String) async throws -> [String: String] {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: try stack.environment.require("SOUK_JWT_HS256_SECRET")), digestAlgorithm: .sha256)
        let token = try await keys.sign(CustomerClaims(sub: customer, expires: Date().addingTimeInterval(3600)))
        return ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]
    }

    /// Topics, then every role and the API in one `souk` process.
    func startSouk() async throws -> ChildProcess {
        let root = Gateway.template.deletingLastPathComponent().deletingLastPathComponent()
        let apply = try ChildProcess(
            executable: "souk", arguments: ["topics", "apply", "--dir", root.appendingPathComponent("topics").path],
            logFile: scratch.appendingPathComponent("topics.log")
        )
        #expect(try await apply.waitForExit(timeout: .seconds(120)) == 0)
        let souk = try ChildProcess(
            executable: "souk", arguments: ["run", "--all", "--http-port", "0", "--state-dir", scratch.appendingPathComponent("state").path],
            environment: ["SOUK_API_PORT": String(apiPort), "SOUK_API_HOST": "127.0.0.1", "SOUK_API_FRESHNESS_SECONDS": "1"],
            logFile: scratch.appendingPathComponent("souk.log")
        )
        try await eventually("every role and the API are ready (log: \(souk.logFile.path))", timeout: .seconds(180), every: .milliseconds(250)) {
            (try? await httpRequest("GET", "http://127.0.0.1:\(apiPort)/health/ready"))?.status == 200
        }
        return souk
    }

    /// Waits for a command's outcome through the gateway and expects it applied.
    func applied(_ accepted: HTTPAnswer, via gateway: Gateway, _ headers: [String: String]) async throws -> String {
        #expect(accepted.status == 202, "\(accepted.body)")
        let body = try #require(try? JSONValue.parse(Array(accepted.body.utf8)))
        let outcome = try await self.outcome(accepted, via: gateway, headers)
        #expect(outcome?["status"]?.stringValue == "applied", "command \(body["commandId"]?.stringValue ?? "?"): \(String(describing: outcome))")
        return try #require(body["key"]?.stringValue)
    }

    /// The outcome of the command a request was accepted with, once it is decided.
    func outcome(_ accepted: HTTPAnswer, via gateway: Gateway, _ headers: [String: String]) async throws -> JSONValue? {
        let id = try #require(json(accepted)?["commandId"]?.stringValue)
        var outcome: JSONValue?
        try await eventually("command \(id) has an outcome", timeout: .seconds(90), every: .zero) {
            outcome = json(try await httpRequest("GET", "\(gateway.url)/api/commands/\(id)?wait=10s", headers: headers))
            return outcome?["status"]?.stringValue != "pending"
        }
        return outcome
    }

    func json(_ answer: HTTPAnswer) -> JSONValue? { try? JSONValue.parse(Array(answer.body.utf8)) }

    @Test func aCustomerOrdersAndFollowsTheOrderToFulfilledOverHTTP() async throws {
        let souk = try await startSouk()
        try await souk.stopping { try await journey() }
    }

    func journey() async throws {
        let gateway = try await Gateway(upstreams: [apiPort])
        let api = gateway.url + "/api"
        let run = uniqueWord("e2e")
        let ops = try operatorHeaders

        // The catalog: an operator adds a tea and its stock.
        let product = try await applied(
            try await httpRequest("POST", "\(api)/products", headers: ops, body: #"{"sku":"\#(run)-SKU","name":"Shan tuyet \#(run)","price":{"amountMinor":150000,"currency":"VND"},"weightGrams":200}"#),
            via: gateway, ops
        )
        _ = try await applied(try await httpRequest("PUT", "\(api)/inventory/\(run)-SKU", headers: ops, body: #"{"mode":"set","quantity":10}"#), via: gateway, ops)

        // A customer registers, fills a cart and applies a coupon.
        let customerID = "\(run)-cust"
        let me = try await customerHeaders(customerID)
        _ = try await applied(try await httpRequest("POST", "\(api)/customers", headers: me, body: #"{"email":"\#(run)@example.com","name":"Mai"}"#), via: gateway, me)
        let cart = try await applied(try await httpRequest("POST", "\(api)/carts", headers: me, body: #"{"currency":"VND"}"#), via: gateway, me)
        _ = try await applied(try await httpRequest("PUT", "\(api)/carts/\(cart)/items", headers: me, body: #"{"productId":"\#(product)","quantity":2}"#), via: gateway, me)
        _ = try await applied(try await httpRequest("PUT", "\(api)/carts/\(cart)/coupon", headers: me, body: #"{"couponCode":"WELCOME10"}"#), via: gateway, me)
        var totals: JSONValue?
        try await eventually("the cart shows the discount", timeout: .seconds(30)) {
            totals = json(try await httpRequest("GET", "\(api)/carts/\(cart)/total", headers: me))
            return totals?["discount"]?["amountMinor"] == .integer(30_000)
        }
        #expect(totals?["total"]?["amountMinor"] == .integer(270_000))

        // Someone else can neither see nor change the cart.
        let stranger = try await customerHeaders("\(run)-stranger")
        #expect(try await httpRequest("GET", "\(api)/carts/\(cart)", headers: stranger).status == 404)
        let intrusion = try await httpRequest("PUT", "\(api)/carts/\(cart)/items", headers: stranger, body: #"{"productId":"\#(product)","quantity":5}"#)
        let refused = try await outcome(intrusion, via: gateway, stranger)
        #expect(refused?["status"]?.stringValue == "rejected" && refused?["reason"]?.stringValue == "cart \(cart) belongs to another customer")

        // The customer saves a payment method: only a saved one of their own pays their orders.
        _ = try await applied(
            try await httpRequest(
                "PUT", "\(api)/customers/\(customerID)/payment-methods", headers: me,
                body: #"{"paymentMethodToken":"tok_\#(run)","brand":"visa","last4":"4242","expiryMonth":8,"expiryYear":2030}"#
            ),
            via: gateway, me
        )
        let address = #""shippingAddress":{"addressId":"home","recipient":"Mai","line1":"1 Trang Tien","city":"Hanoi","postalCode":"100000","country":"VN"}"#
        // Another customer's saved method is refused, and nothing is charged.
        _ = try await applied(
            try await httpRequest("POST", "\(api)/customers", headers: stranger, body: #"{"email":"\#(run)-x@example.com","name":"Lan"}"#), via: gateway, stranger
        )
        let foreign = try await httpRequest("POST", "\(api)/orders", headers: stranger, body: #"{"customerId":"\#(run)-stranger","lines":[{"productId":"\#(product)","sku":"\#(run)-SKU","quantity":1}],\#(address),"paymentToken":"tok_\#(run)"}"#)
        let foreignOutcome = try await outcome(foreign, via: gateway, stranger)
        #expect(foreignOutcome?["status"]?.stringValue == "rejected", "\(String(describing: foreignOutcome))")
        #expect(foreignOutcome?["reason"]?.stringValue == "the payment token is not a payment method customer \(run)-stranger saved")
        #expect(foreignOutcome?["field"]?.stringValue == "/paymentToken")

        // The order checks the cart out, followed to fulfilled.
        let order = try await applied(
            try await httpRequest("POST", "\(api)/orders", headers: me, body: #"{"cartId":"\#(cart)",\#(address),"paymentToken":"tok_\#(run)"}"#),
            via: gateway, me
        )
        var shipment: String?
        try await eventually("the order ships with a carrier", timeout: .seconds(120), every: .milliseconds(200)) {
            let view = json(try await httpRequest("GET", "\(api)/shipments/order/\(order)", headers: me))
            shipment = view?["shipmentId"]?.stringValue
            return view?["status"]?.stringValue == "assigned"
        }
        for status in ["picked_up", "in_transit", "delivered"] {
            _ = try await applied(
                try await httpRequest("PUT", "\(api)/shipments/\(try #require(shipment))/status", headers: ops, body: #"{"status":"\#(status)","location":"Hanoi"}"#),
                via: gateway, ops
            )
        }
        var final: HTTPAnswer?
        try await eventually("the order is fulfilled", timeout: .seconds(120), every: .milliseconds(200)) {
            final = try await httpRequest("GET", "\(api)/orders/\(order)", headers: me)
            return final.flatMap(json)?["status"]?.stringValue == "fulfilled"
        }
        // It charged exactly the cart's total, and the cart shows it checked out.
        #expect(final.flatMap(json)?["total"]?["amountMinor"] == totals?["total"]?["amountMinor"])
        #expect(final.flatMap(json)?["total"]?["amountMinor"] == .integer(270_000))
        try await eventually("the cart shows it was checked out", timeout: .seconds(30)) {
            json(try await httpRequest("GET", "\(api)/carts/\(cart)", headers: me))?["checkedOutBy"]?.stringValue == order
        }
        // It cannot be checked out again.
        let again = try await httpRequest("POST", "\(api)/orders", headers: me, body: #"{"cartId":"\#(cart)",\#(address),"paymentToken":"tok_\#(run)"}"#)
        let againOutcome = try await outcome(again, via: gateway, me)
        #expect(againOutcome?["reason"]?.stringValue == "cart \(cart) was already checked out by order \(order)", "\(String(describing: againOutcome))")
        let history = json(try await httpRequest("GET", "\(api)/orders/\(order)/history", headers: me))
        guard case .array(let steps)? = history?["steps"] else { Issue.record("no history: \(String(describing: history))"); return }
        let names = steps.compactMap { step in step["event"]?.stringValue }
        #expect(names.contains("PaymentProcessed"))
        #expect(steps.last?["event"]?.stringValue == "OrderFulfilled")
        // The read model says how far it has got; once quiet, it is not behind.
        try await eventually("the order read model reports no lag", timeout: .seconds(30)) {
            try await httpRequest("GET", "\(api)/orders/\(order)", headers: me).header("Souk-Read-Lag") == "0"
        }
        #expect(try await httpRequest("GET", "\(api)/orders/\(order)", headers: me).header("Souk-Read-Position")?.contains("souk.order.events.v1") == true)
        let stock = json(try await httpRequest("GET", "\(api)/inventory/\(run)-SKU"))
        #expect(stock?["available"] == .integer(8) && stock?["sold"] == .integer(2))

        // An order with a price of the customer's choosing is charged the catalog's.
        let cheap = try await applied(
            try await httpRequest(
                "POST", "\(api)/orders", headers: me,
                body: #"{"lines":[{"productId":"\#(product)","sku":"\#(run)-SKU","quantity":1,"unitPrice":{"amountMinor":1,"currency":"VND"}}],\#(address),"paymentToken":"tok_\#(run)"}"#
            ),
            via: gateway, me
        )
        try await eventually("the order at a price of 1 shows the catalog's", timeout: .seconds(60)) {
            json(try await httpRequest("GET", "\(api)/orders/\(cheap)", headers: me))?["total"]?["amountMinor"] == .integer(150_000)
        }
    }

    @Test func theGatewayPassesRequestIDsLimitsRatesAndAnswersJSONWhenNoAPIIsUp() async throws {
        let souk = try await startSouk()
        try await souk.stopping { try await gatewayAnswers() }
    }

    func gatewayAnswers() async throws {
        let gateway = try await Gateway(upstreams: [apiPort])
        let traced = try await httpRequest("GET", "\(gateway.url)/api/products?limit=1", headers: ["X-Request-ID": "trace-me-1"])
        #expect(traced.status == 200 && traced.header("X-Request-ID") == "trace-me-1")
        let minted = try await httpRequest("GET", "\(gateway.url)/api/products?limit=1")
        // nginx and the API keep the same request ids, so that their two logs name a request alike.
        let kept = ["a", String(repeating: "x", count: 200), ##"a!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~b"##]
        let replaced = [String(repeating: "y", count: 201), "has space", "tab\tinside"]
        for id in kept + replaced {
            let direct = try await httpRequest("GET", "http://127.0.0.1:\(apiPort)/api/products?limit=1", headers: ["X-Request-ID": id])
            let proxied = try await httpRequest("GET", "\(gateway.url)/api/products?limit=1", headers: ["X-Request-ID": id])
            #expect((direct.header("X-Request-ID") == id) == kept.contains(id), "the API, \(id): \(String(describing: direct.header("X-Request-ID")))")
            #expect((proxied.header("X-Request-ID") == id) == kept.contains(id), "nginx, \(id): \(String(describing: proxied.header("X-Request-ID")))")
        }
        #expect((minted.header("X-Request-ID")?.count ?? 0) >= 16)
        // The API's problem documents pass through unchanged.
        let unauthorized = try await httpRequest("POST", "\(gateway.url)/api/orders", headers: ["Content-Type": "application/json"], body: "{}")
        #expect(unauthorized.status == 401 && unauthorized.header("Content-Type") == "application/problem+json")

        let strict = try await Gateway(upstreams: [apiPort], rate: "2r/s", burst: 2)
        var statuses: [Int] = []
        var limited: HTTPAnswer?
        for _ in 0..<12 {
            let answer = try await httpRequest("GET", "\(strict.url)/api/products?limit=1", headers: ["X-API-Key": "client-a"])
            statuses.append(answer.status)
            if answer.status == 429 { limited = answer }
        }
        #expect(statuses.contains(429), "\(statuses)")
        #expect(limited?.header("Content-Type") == "application/problem+json" && limited?.header("Retry-After") == "1")
        // Another client has a budget of its own.
        #expect(try await httpRequest("GET", "\(strict.url)/api/products?limit=1", headers: ["X-API-Key": "client-b"]).status != 429)

        // One token is one client, however its scheme is spelled.
        let token = try await customerHeaders("rate-probe")["Authorization"]!.dropFirst("Bearer ".count)
        var spellings: [Int] = []
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR", "BeArEr", "Bearer ", "bearer  ", "BEARer", "beaRER", "BearER", "bEARER", "Bearer"] {
            spellings.append(try await httpRequest("GET", "\(strict.url)/api/products?limit=1", headers: ["Authorization": "\(scheme) \(token)"]).status)
        }
        #expect(spellings.contains(429), "\(spellings)")

        // A new junk credential per request is still one address.
        let byAddress = try await Gateway(upstreams: [apiPort], rate: "100r/s", burst: 2, addressRate: "2r/s")
        var junk: [Int] = []
        for attempt in 0..<12 {
            junk.append(try await httpRequest("GET", "\(byAddress.url)/api/products?limit=1", headers: ["X-API-Key": "junk-\(attempt)"]).status)
        }
        #expect(junk.contains(429), "\(junk)")
        var openapi: [Int] = []
        for _ in 0..<12 { openapi.append(try await httpRequest("GET", "\(byAddress.url)/openapi.json").status) }
        #expect(openapi.contains(429), "\(openapi)")

        let orphan = try await Gateway(upstreams: [try freePort()])
        let down = try await httpRequest("GET", "\(orphan.url)/api/products")
        #expect(down.status == 503 && down.header("Content-Type") == "application/problem+json")
        #expect(json(down)?["type"]?.stringValue == "https://souk.dev/problems/unavailable")
    }
}
