import Contracts
import Testing

@Suite struct SchemaValidationTests {
    func violations(_ json: String, _ schema: Schema = SetProductPrice.schema) -> [String] {
        schema.validate(json: Array(json.utf8)).map(\.description)
    }

    @Test func validDocumentPasses() {
        #expect(violations(#"{"productId":"prod-1","price":{"amountMinor":100,"currency":"VND"}}"#) == [])
    }

    @Test(arguments: [
        (#"{"price":{"amountMinor":100,"currency":"VND"}}"#, "/productId: is required"),
        (#"{"productId":"p","price":{"currency":"VND"}}"#, "/price/amountMinor: is required"),
        (#"{"productId":"p","price":{"amountMinor":1.5,"currency":"VND"}}"#, "/price/amountMinor: must be an integer"),
        (#"{"productId":"p","price":{"amountMinor":"100","currency":"VND"}}"#, "/price/amountMinor: must be an integer"),
        (#"{"productId":"p","price":{"amountMinor":100,"currency":"vnd"}}"#, "/price/currency: must match ^[A-Z]{3}$"),
        (#"{"productId":"p","price":{"amountMinor":100,"currency":"VND"},"extra":1}"#, "/extra: is not allowed"),
        (#"{"productId":"","price":{"amountMinor":100,"currency":"VND"}}"#, "/productId: must have at least 1 characters"),
        (#"{"productId":"a b","price":{"amountMinor":100,"currency":"VND"}}"#, "/productId: must match ^[A-Za-z0-9._:-]+$"),
        (#"{"productId":"p","price":{"amountMinor":1000000000000001,"currency":"VND"}}"#, "/price/amountMinor: must be at most 1000000000000000"),
        (#"{"productId":"p","price":{"amountMinor":-1000000000000001,"currency":"VND"}}"#, "/price/amountMinor: must be at least -1000000000000000"),
        (#"[1,2]"#, "/: must be an object"),
        (#"{"productId": "#, "/: is not valid JSON"),
    ])
    func invalidDocumentsNameTheFieldAtFault(json: String, expected: String) {
        #expect(violations(json).contains(expected), "\(violations(json))")
    }

    @Test func booleansArraysEnumsAndTimes() {
        #expect(violations(#"{"customerId":"c","address":{"addressId":"a","recipient":"r","line1":"l","city":"c","postalCode":"1","country":"VN"},"makeDefault":"yes"}"#, UpdateShippingAddress.schema) == ["/makeDefault: must be true or false"])
        #expect(violations(#"{"orderId":"o","status":"teleported"}"#, UpdateOrderStatus.schema).first?.hasPrefix("/status: must be one of") == true)
        #expect(violations(#"{"productId":"p","sku":"s","deletedAt":"yesterday"}"#, ProductDeleted.schema) == ["/deletedAt: must be an RFC 3339 date-time"])
        let emptyLines = #"{"orderId":"o","customerId":"c","lines":[],"shippingAddress":{"addressId":"a","recipient":"r","line1":"l","city":"c","postalCode":"1","country":"VN"},"paymentToken":"t"}"#
        // An order of no lines is a cart's checkout: the schema takes it, the saga asks for a cartId.
        #expect(violations(emptyLines, CreateOrder.schema).isEmpty)
        let tooMany = emptyLines.replacingOccurrences(of: #""lines":[]"#, with: #""lines":["# + Array(repeating: #"{"productId":"p","sku":"s","quantity":1}"#, count: 101).joined(separator: ",") + "]")
        #expect(violations(tooMany, CreateOrder.schema) == ["/lines: must have at most 100 items"])
    }

    @Test func documentsCarryDefinitionsOnce() throws {
        let document = CreateOrder.schema.document(id: "x", title: "t", description: "d")
        let definitions = try #require(document["$defs"] as? [String: Any])
        #expect(Set(definitions.keys) == ["Money", "Address", "OrderItem"])
    }

    @Test(arguments: ["Alice\\u0000", "a\\u001bb", "x\\u007f", "\\u0008"])
    func textRefusesControlCharacters(name: String) {
        let json = #"{"customerId":"c1","email":"a@example.com","name":"\#(name)"}"#
        #expect(violations(json, RegisterCustomer.schema).contains { $0.hasPrefix("/name: must not contain control characters") }, "\(violations(json, RegisterCustomer.schema))")
    }

    @Test func textKeepsTabsAndLineBreaksAndThePublishedSchemaSaysSo() throws {
        #expect(violations(#"{"customerId":"c1","email":"a@example.com","name":"Mai\tLe\nHa Noi\r"}"#, RegisterCustomer.schema) == [])
        #expect(!violations(#"{"customerId":"c1","email":"a\u0000b@example.com","name":"Mai"}"#, RegisterCustomer.schema).isEmpty)
        let document = RegisterCustomer.schema.document(id: "x", title: "t", description: "d")
        let name = try #require((document["properties"] as? [String: Any])?["name"] as? [String: Any])
        #expect(name["pattern"] as? String == #"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$"#)
    }
}
