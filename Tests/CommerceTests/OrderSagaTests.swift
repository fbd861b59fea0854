import Commerce
import Contracts
import Foundation
import Testing

@Suite struct OrderSagaTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)
    let lines = [
        OrderLine(productId: "p1", sku: "A", quantity: 2, unitPrice: Money(100, "VND")),
        OrderLine(productId: "p2", sku: "B", quantity: 1, unitPrice: Money(50, "VND")),
    ]

    func saga() throws -> (OrderSaga, [OrderSaga.Request]) {
        try OrderSaga.start(orderId: "o1", lines: lines, at: start)
    }

    /// Feeds inputs a second apart and collects every request.
    func run(_ inputs: [OrderSaga.Input]) throws -> (OrderSaga, [OrderSaga.Request]) {
        var (saga, requests) = try saga()
        for (index, input) in inputs.enumerated() { requests += saga.handle(input, at: start + Double(index + 1)) }
        return (saga, requests)
    }

    @Test func happyPath() throws {
        let (saga, requests) = try run([.reserved(sku: "A"), .reserved(sku: "B"), .paymentProcessed, .shipmentCreated(shipmentId: "ship-o1"), .shipmentDispatched, .deliveryCompleted])
        #expect(saga.status == .fulfilled)
        #expect(requests == [
            .reserve(sku: "A", quantity: 2, reservationId: "res-o1-A"), .reserve(sku: "B", quantity: 1, reservationId: "res-o1-B"),
            .processPayment(paymentId: "pay-o1", amount: Money(250, "VND")),
            .confirm(sku: "A", quantity: 2, reservationId: "res-o1-A"), .confirm(sku: "B", quantity: 1, reservationId: "res-o1-B"), .createShipment(shipmentId: "ship-o1"),
        ])
        #expect(saga.history.map(\.name) == ["created", "reserved A", "reserved B", "awaiting payment", "paid", "shipment created", "dispatched", "fulfilled"])
    }

    @Test(arguments: [
        // (inputs, terminal status, reason, compensations)
        ([OrderSaga.Input.reserved(sku: "A"), .reservationRefused(sku: "B", reason: "out of stock")], OrderSaga.Status.failed, "B: out of stock", [OrderSaga.Request.release(sku: "A", reservationId: "res-o1-A")]),
        ([.reserved(sku: "A"), .reserved(sku: "B"), .paymentFailed(reason: "card declined")], .failed, "payment failed: card declined", [.release(sku: "A", reservationId: "res-o1-A"), .release(sku: "B", reservationId: "res-o1-B")]),
        ([.reserved(sku: "A"), .reserved(sku: "B"), .reservationExpired(sku: "A")], .failed, "reservation of A expired", [.release(sku: "B", reservationId: "res-o1-B")]),
        ([.reserved(sku: "A"), .cancel(reason: "changed my mind")], .cancelled, "changed my mind", [.release(sku: "A", reservationId: "res-o1-A")]),
        ([.reserved(sku: "A"), .reserved(sku: "B"), .paymentProcessed, .cancel(reason: "too slow")], .cancelled, "too slow", [.refund(paymentId: "pay-o1", amount: Money(250, "VND")), .cancelShipment(shipmentId: "ship-o1")]),
        ([.reserved(sku: "A"), .reserved(sku: "B"), .paymentProcessed, .stockConfirmed(sku: "A"), .shipmentCreated(shipmentId: "ship-o1"), .cancel(reason: "after shipment")], .cancelled, "after shipment", [.returnStock(sku: "A", quantity: 2, reservationId: "res-o1-A"), .refund(paymentId: "pay-o1", amount: Money(250, "VND")), .cancelShipment(shipmentId: "ship-o1")]),
        ([.reserved(sku: "A"), .reserved(sku: "B"), .paymentProcessed, .stockConfirmed(sku: "B"), .reservationRefused(sku: "A", reason: "out of stock")], .failed, "A: out of stock", [.returnStock(sku: "B", quantity: 1, reservationId: "res-o1-B"), .refund(paymentId: "pay-o1", amount: Money(250, "VND")), .cancelShipment(shipmentId: "ship-o1")]),
        ([.reserved(sku: "A"), .fail(reason: "operator: fraud")], .failed, "operator: fraud", [.release(sku: "A", reservationId: "res-o1-A")]),
    ])
    func compensations(inputs: [OrderSaga.Input], terminal: OrderSaga.Status, reason: String, compensations: [OrderSaga.Request]) throws {
        var (saga, _) = try saga()
        var last: [OrderSaga.Request] = []
        for (index, input) in inputs.enumerated() { last = saga.handle(input, at: start + Double(index + 1)) }
        #expect(saga.status == terminal)
        #expect(saga.endReason == reason)
        #expect(last == compensations)
    }

    @Test(arguments: [
        ([OrderSaga.Input](), 31.0, "reservation timed out", [OrderSaga.Request]()),
        ([.reserved(sku: "A")], 31.0, "reservation timed out", [.release(sku: "A", reservationId: "res-o1-A")]),
        ([.reserved(sku: "A"), .reserved(sku: "B")], 62.0, "payment timed out", [.release(sku: "A", reservationId: "res-o1-A"), .release(sku: "B", reservationId: "res-o1-B")]),
        ([.reserved(sku: "A"), .reserved(sku: "B"), .paymentProcessed], 62.0, "shipment timed out", [.refund(paymentId: "pay-o1", amount: Money(250, "VND")), .cancelShipment(shipmentId: "ship-o1")]),
    ])
    func timeouts(inputs: [OrderSaga.Input], after seconds: Double, reason: String, compensations: [OrderSaga.Request]) throws {
        var (saga, _) = try saga()
        for input in inputs { _ = saga.handle(input, at: start + 1) }
        let before = saga
        #expect(saga.handle(.tick, at: start + 2).isEmpty, "not yet due")
        #expect(saga == before)
        let requests = saga.handle(.tick, at: start + seconds + 1)
        #expect(saga.status == .failed && saga.endReason == reason)
        #expect(requests == compensations)
    }

    @Test func exactlyOneTerminalStateAndNothingAfterIt() throws {
        var (saga, _) = try run([.reserved(sku: "A"), .cancel(reason: "first")])
        #expect(saga.canCancel() == .alreadyEnded(.cancelled))
        #expect(saga.handle(.cancel(reason: "second"), at: start + 10).isEmpty)
        #expect(saga.handle(.fail(reason: "third"), at: start + 10).isEmpty)
        #expect(saga.handle(.tick, at: start + 1_000).isEmpty)
        #expect(saga.status == .cancelled && saga.endReason == "first")
    }

    /// Answers to requests made before the end are undone as they arrive, once each.
    @Test(arguments: [
        (OrderSaga.Input.reserved(sku: "B"), [OrderSaga.Request.release(sku: "B", reservationId: "res-o1-B")]),
        (.paymentProcessed, [.refund(paymentId: "pay-o1", amount: Money(250, "VND"))]),
        (.stockConfirmed(sku: "A"), [.returnStock(sku: "A", quantity: 2, reservationId: "res-o1-A")]),
        (.shipmentCreated(shipmentId: "ship-o1"), [.cancelShipment(shipmentId: "ship-o1")]),
        (.paymentFailed(reason: "declined"), []),
    ])
    func lateAnswersAreUndone(input: OrderSaga.Input, undo: [OrderSaga.Request]) throws {
        var (saga, _) = try run([.reserved(sku: "A"), .tick])
        _ = saga.handle(.tick, at: start + 100)
        #expect(saga.status == .failed)
        #expect(saga.handle(input, at: start + 101) == undo)
        if input == .paymentProcessed { #expect(saga.handle(input, at: start + 102).isEmpty, "refunded once") }
    }

    @Test func linesOfOneSkuAreReservedTogether() throws {
        let twice = lines + [OrderLine(productId: "p1", sku: "A", quantity: 3, unitPrice: Money(100, "VND"))]
        let (saga, requests) = try OrderSaga.start(orderId: "o2", lines: twice, at: start)
        #expect(requests == [.reserve(sku: "A", quantity: 5, reservationId: "res-o2-A"), .reserve(sku: "B", quantity: 1, reservationId: "res-o2-B")])
        #expect(saga.total == Money(550, "VND"))
        #expect(saga.waitingFor == "stock reservations for A, B")
    }

    @Test func aDispatchedShipmentCannotBeCancelled() throws {
        var (saga, _) = try run([.reserved(sku: "A"), .reserved(sku: "B"), .paymentProcessed, .shipmentCreated(shipmentId: "ship-o1"), .shipmentDispatched])
        #expect(saga.canCancel() == .alreadyDispatched)
        #expect(saga.handle(.cancel(reason: "late"), at: start + 20).isEmpty)
        #expect(saga.status == .shipping)
    }
}
