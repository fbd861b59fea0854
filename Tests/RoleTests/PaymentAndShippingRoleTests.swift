import Commerce
import Contracts
import Foundation
import Kafka
import Payments
import Shipping
import Streams
import Testing

@Suite struct PaymentRoleTests {
    let commands = "souk.payment.commands.v1"

    @Test func manualCaptureThenPartialRefundsNeverAboveTheCapture() async throws {
        var payments = RoleHarness(PaymentRole(provider: try SandboxPaymentProvider()), internalTopics: [])
        let authorized = try await payments.send(
            ProcessPayment(paymentId: "pay-1", orderId: "o1", customerId: "c1", amount: Money(100_000, "VND"), paymentToken: "tok_visa", capture: "manual"), topic: commands
        )
        #expect(try authorized[0].decoded(PaymentProcessed.self).status == "authorized")
        let captured = try await payments.send(CapturePayment(paymentId: "pay-1", amount: Money(80_000, "VND")), topic: commands)
        #expect(try captured[0].decoded(PaymentProcessed.self).amount == Money(80_000, "VND"))
        let again = try await payments.send(CapturePayment(paymentId: "pay-1"), topic: commands)
        #expect(try again[0].decoded(CommandRejected.self).reason == "the payment was already captured")
        let refund = try await payments.send(RefundPayment(paymentId: "pay-1", refundId: "r1", amount: Money(50_000, "VND")), topic: commands)
        #expect(refund.compactMap(\.type) == [RefundInitiated.typeName, RefundCompleted.typeName])
        let tooMuch = try await payments.send(RefundPayment(paymentId: "pay-1", refundId: "r2", amount: Money(40_000, "VND")), topic: commands)
        #expect(try tooMuch[0].decoded(CommandRejected.self).reason == "cannot refund more than the 30000 VND left to refund")
        #expect(try await payments.send(RefundPayment(paymentId: "pay-1", refundId: "r1", amount: Money(50_000, "VND")), topic: commands).isEmpty, "a repeated refund id pays nothing")
        #expect(payments.store.state(partition: 0, key: "pay-1")?.status == "partially_refunded")
    }

    @Test func unknownPaymentsAreRejected() async throws {
        var payments = RoleHarness(PaymentRole(provider: try SandboxPaymentProvider()), internalTopics: [])
        let out = try await payments.send(RefundPayment(paymentId: "pay-x", refundId: "r1", amount: Money(1, "VND")), topic: commands)
        #expect(try out[0].decoded(CommandRejected.self).reason == "no captured payment pay-x")
    }
}

@Suite struct ShippingRoleTests {
    let commands = "souk.shipping.commands.v1"

    func created(_ country: String = "VN", weight: Int = 1_500) async throws -> RoleHarness<ShippingRole> {
        var shipping = RoleHarness(ShippingRole(), internalTopics: [])
        var address = Address.example
        address.country = country
        _ = try await shipping.send(CreateShipment(shipmentId: "s1", orderId: "o1", address: address, weightGrams: weight, declaredValue: Money(1, "VND")), topic: commands)
        return shipping
    }

    @Test func theRulesChooseACarrierAndOneCanBeNamed() async throws {
        var shipping = try await created()
        #expect(shipping.store.state(partition: 0, key: "s1")?.carrier == "ghn")
        let named = try await shipping.send(AssignCarrier(shipmentId: "s1", carrier: "vnpost"), topic: commands)
        #expect(try named[0].decoded(CarrierAssigned.self).cost == Money(30_000, "VND"))
        let refused = try await shipping.send(AssignCarrier(shipmentId: "s1", carrier: "ghn-air"), topic: commands)
        #expect(try refused[0].decoded(CommandRejected.self).reason == "carrier ghn-air does not serve VN at 1500 g")
    }

    @Test func aDestinationNoCarrierServesWaitsForAnAssignment() async throws {
        var shipping = try await created("ZZ")
        #expect(shipping.store.state(partition: 0, key: "s1")?.status == .created)
        let refused = try await shipping.send(AssignCarrier(shipmentId: "s1"), topic: commands)
        #expect(try refused[0].decoded(CommandRejected.self).reason == "no carrier does serve ZZ at 1500 g")
    }

    @Test(arguments: [
        (["picked_up", "in_transit", "delivered"], [ShipmentStatusUpdated.typeName, ShipmentStatusUpdated.typeName, ShipmentStatusUpdated.typeName, DeliveryCompleted.typeName], "delivered"),
        (["in_transit"], [CommandRejected.typeName], "assigned"),
        (["picked_up", "exception", "in_transit"], [ShipmentStatusUpdated.typeName, ShipmentStatusUpdated.typeName, ShipmentStatusUpdated.typeName], "in_transit"),
        (["cancelled", "picked_up"], [ShipmentStatusUpdated.typeName, CommandRejected.typeName], "cancelled"),
    ])
    func onlyTheStateMachinesMovesAreAccepted(statuses: [String], types: [String], final: String) async throws {
        var shipping = try await created()
        var emitted: [String] = []
        for status in statuses { emitted += try await shipping.send(UpdateShipmentStatus(shipmentId: "s1", status: status), topic: commands).compactMap(\.type) }
        #expect(emitted == types)
        #expect(shipping.store.state(partition: 0, key: "s1")?.status.rawValue == final)
    }

    @Test(arguments: [("VN", nil, 2), ("VN", "dhl", 6), ("DE", nil, 6)] as [(String, String?, Int)])
    func deliveryEstimates(country: String, carrier: String?, days: Int) {
        #expect(CarrierRules.standard.estimate(GetDeliveryEstimate(country: country, carrier: carrier))?.days == days)
    }

    @Test func noEstimateWhereNobodyDelivers() {
        #expect(CarrierRules.standard.estimate(GetDeliveryEstimate(country: "ZZ")) == nil)
    }
}
