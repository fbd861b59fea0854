import Contracts
import Customers
import Kafka
import Streams
import Testing

@Suite struct CustomerRoleTests {
    let role = CustomerRole()
    let commands = "souk.customer.commands.v1"

    func harness() -> RoleHarness<CustomerRole> {
        RoleHarness(role, internalTopics: [role.topics.emailClaims, role.topics.emailDecisions])
    }

    func register(_ id: String, email: String) -> RegisterCustomer {
        RegisterCustomer(customerId: id, email: email, name: "Customer \(id)")
    }

    func address(_ id: String) -> Address {
        Address(addressId: id, recipient: "Lan", line1: "1 Street", city: "Hue", postalCode: "530000", country: "VN")
    }

    func rejection(_ outputs: [KafkaProducerMessage]) throws -> CommandRejected {
        #expect(outputs.map(\.type) == [CommandRejected.typeName])
        return try #require(outputs.first).decoded(CommandRejected.self)
    }

    @Test func registersWithAUniqueEmailCaseInsensitively() async throws {
        var customers = harness()
        let registered = try await customers.send(register("c1", email: "Lan@Example.com"), topic: commands)
        #expect(try registered[0].decoded(CustomerRegistered.self).email == "lan@example.com")
        let duplicate = try rejection(try await customers.send(register("c2", email: "lan@example.COM"), topic: commands, id: "cmd-dup"))
        #expect(duplicate.reason == "e-mail address is already registered")
        #expect(duplicate.commandId == "cmd-dup")
        #expect(try rejection(try await customers.send(register("c1", email: "other@example.com"), topic: commands)).reason == "customer c1 already exists")
    }

    @Test(arguments: [
        (#"{"customerId":"c1","paymentMethodToken":"4242424242424242","brand":"visa","last4":"4242","expiryMonth":8,"expiryYear":2029}"#, UpdateBillingInfo.typeName, "/paymentMethodToken"),
        (#"{"customerId":"c1","name":"card 5555 5555 5555 4444"}"#, UpdateCustomerProfile.typeName, "/name"),
        (#"{"customerId":"c9","email":"a@b.co","name":"x","phone":"4111111111111111"}"#, RegisterCustomer.typeName, "/phone"),
    ])
    func commandsCarryingACardNumberAreRejected(json: String, type: String, field: String) async throws {
        var customers = harness()
        _ = try await customers.send(register("c1", email: "a@example.com"), topic: commands)
        let outputs = try await customers.send(topic: commands, key: "c1", type: type, value: Array(json.utf8))
        let rejected = try rejection(outputs)
        #expect(rejected.field == field)
        #expect(rejected.reason.contains("card number"))
    }

    @Test func billingKeepsTokenAndDisplayDataOnly() async throws {
        var customers = harness()
        _ = try await customers.send(register("cust-1", email: "a@example.com"), topic: commands)
        let outputs = try await customers.send(UpdateBillingInfo.example, topic: commands)
        let event = try outputs[0].decoded(BillingInfoUpdated.self)
        #expect(event.paymentMethodToken == "pm_tok_visa_4242" && event.last4 == "4242")
    }

    @Test(arguments: [
        ([("home", false)], "home"),
        ([("home", false), ("work", false)], "home"),
        ([("home", false), ("work", true)], "work"),
        ([("home", true), ("work", false), ("home", false)], "home"),
    ])
    func addressEventsNameTheDefault(updates: [(String, Bool)], expected: String) async throws {
        var customers = harness()
        _ = try await customers.send(register("c1", email: "a@example.com"), topic: commands)
        var last: AddressUpdated?
        for (id, makeDefault) in updates {
            let outputs = try await customers.send(UpdateShippingAddress(customerId: "c1", address: address(id), makeDefault: makeDefault), topic: commands)
            last = try outputs[0].decoded(AddressUpdated.self)
        }
        #expect(last?.defaultAddressId == expected)
    }

    @Test func profileUpdatesNeedAKnownCustomer() async throws {
        var customers = harness()
        #expect(try rejection(try await customers.send(UpdateCustomerProfile(customerId: "ghost", name: "x"), topic: commands)).reason == "unknown customer ghost")
        _ = try await customers.send(register("c1", email: "a@example.com"), topic: commands)
        let outputs = try await customers.send(UpdateCustomerProfile(customerId: "c1", phone: "+84 90 000 0000"), topic: commands)
        let updated = try outputs[0].decoded(ProfileUpdated.self)
        #expect(updated.name == "Customer c1" && updated.phone == "+84 90 000 0000")
    }
}
