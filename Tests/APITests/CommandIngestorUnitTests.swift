import Contracts
import Foundation
import Testing

@testable import API

/// The ingestor's pure steps, without any service.
@Suite struct CommandIngestorUnitTests {
    func request(_ body: String, method: String = "POST", path: String = "/api/carts", parameters: [String: String] = [:], principal: Principal = .system("ops"))
        -> CommandIngestor.Request
    {
        CommandIngestor.Request(
            method: method, path: path, pathParameters: parameters, contentType: "application/json", body: Array(body.utf8), principal: principal,
            idempotencyKey: nil, requestID: "r"
        )
    }

    @Test func commandIDsOfKeyedRequestsAreStableAndNeverShared() throws {
        let hash = CommandIngestor.requestHash(request("{}"))
        let id = try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: "k1", requestHash: hash)
        #expect(id == (try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: "k1", requestHash: hash)))
        #expect(id.count == 36 && id.hasPrefix("cmd-"))
        #expect(id != (try CommandIngestor.commandID(principal: .system("erp"), idempotencyKey: "k1", requestHash: hash)))
        #expect(id != (try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: "k2", requestHash: hash)))
        #expect(id != (try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: "k1", requestHash: CommandIngestor.requestHash(request(" {}")))))
        #expect(CommandIngestor.requestHash(request("{}")) != CommandIngestor.requestHash(request("{}", path: "/api/orders")))
        // Without a key every request is a new command.
        #expect((try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: nil, requestHash: hash)) != (try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: nil, requestHash: hash)))
        #expect(throws: Problem.self) { try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: "", requestHash: hash) }
        #expect(throws: Problem.self) { try CommandIngestor.commandID(principal: .system("ops"), idempotencyKey: "tab\there", requestHash: hash) }
    }

    @Test func theCommandTakesThePathsIDsAGeneratedIDAndTheCallersCustomerID() throws {
        let create = CommandRoute(CreateCart.self, generates: .init(field: "cartId", prefix: "cart"))
        let filled = try CommandIngestor.command(
            create, access: .bodyCustomer("customerId"), request(#"{"currency":"VND"}"#, principal: .customer("c9")), commandID: "cmd-abc"
        )
        #expect(filled == .object(["cartId": .string("cart-abc"), "customerId": .string("c9"), "currency": .string("VND")]))
        // A given id is kept; an operator names any customer.
        let given = try CommandIngestor.command(create, access: .bodyCustomer("customerId"), request(#"{"cartId":"mine","customerId":"c1","currency":"VND"}"#), commandID: "cmd-x")
        #expect(given["cartId"] == .string("mine") && given["customerId"] == .string("c1"))
        #expect(throws: Problem.forbidden("a customer may act only for itself (/customerId)")) {
            try CommandIngestor.command(create, access: .bodyCustomer("customerId"), request(#"{"customerId":"c1","currency":"VND"}"#, principal: .customer("c9")), commandID: "cmd-x")
        }
        let quantity = CommandRoute(UpdateQuantity.self, path: ["id": "cartId", "itemId": "productId"])
        let merged = try CommandIngestor.command(quantity, access: .owner, request(#"{"quantity":3}"#, method: "PUT", parameters: ["id": "k1", "itemId": "p1"]), commandID: "cmd-x")
        #expect(merged == .object(["cartId": .string("k1"), "productId": .string("p1"), "quantity": .integer(3)]))
        // DELETE may come without a body.
        let remove = CommandRoute(RemoveItemFromCart.self, path: ["id": "cartId", "itemId": "productId"])
        #expect((try CommandIngestor.command(remove, access: .owner, request("", method: "DELETE", parameters: ["id": "k1", "itemId": "p1"]), commandID: "cmd-x"))["productId"] == .string("p1"))
    }

    @Test(arguments: [
        ("application/json", true), ("application/json; charset=utf-8", true), ("Application/JSON", true), ("application/merge-patch+json", true),
        ("text/plain", false), ("application/x-www-form-urlencoded", false), ("", false),
    ])
    func onlyJSONIsAccepted(_ contentType: String, _ accepted: Bool) {
        #expect(CommandIngestor.isJSON(contentType) == accepted)
    }

    @Test(arguments: [
        ("5s", Duration.seconds(5)), ("500ms", .milliseconds(500)), ("2", .seconds(2)), ("1.5s", .milliseconds(1500)), ("", .zero),
    ])
    func waitDurations(_ text: String, _ expected: Duration) throws {
        #expect(try APIRouter.waitDuration(text, max: .seconds(30)) == expected)
    }

    @Test(arguments: ["31s", "-1s", "soon", "5m", "nan", "1e300", "1e300s", "99999999999999999999ms", "inf"])
    func badWaitDurations(_ text: String) {
        #expect(throws: Problem.self) { try APIRouter.waitDuration(text, max: .seconds(30)) }
    }

    @Test func apiKeysAreComparedInFull() {
        #expect(Authenticator.constantTimeEqual("secret-0123456789", "secret-0123456789"))
        #expect(!Authenticator.constantTimeEqual("secret-0123456789", "secret-012345678"))
        #expect(!Authenticator.constantTimeEqual("secret-0123456789", "secret-0123456780"))
        #expect(!Authenticator.constantTimeEqual("", "x"))
    }

    @Test func apiKeysComeFromConfigurationWithLongSecrets() throws {
        #expect(try APIConfiguration.parseAPIKeys("erp=0123456789abcdef,ops = fedcba9876543210") == [
            .init(name: "erp", secret: "0123456789abcdef"), .init(name: "ops", secret: "fedcba9876543210"),
        ])
        #expect(throws: APIConfigurationError.self) { try APIConfiguration.parseAPIKeys("erp=short") }
        let configuration = APIConfiguration(apiKeys: [.init(name: "erp", secret: "0123456789abcdef")], jwt: .init(hmacSecret: "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"))
        #expect(!configuration.redactedDescription.contains("0123456789abcdef") && !configuration.redactedDescription.contains("s3cr3t"))
    }
}
