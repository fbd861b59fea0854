import Contracts
import Foundation

/// The order saga's decisions, as a pure state machine: given what happened, what the saga asks the
/// other contexts to do, and how the order's status moves. Every step has a deadline; a `tick` past it
/// compensates what was done and ends the order, so each order reaches exactly one terminal state.
public struct OrderSaga: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case reserving, awaitingPayment = "awaiting_payment", shipping, fulfilled, cancelled, failed
        public var isTerminal: Bool { self == .fulfilled || self == .cancelled || self == .failed }
    }

    /// What the saga hears.
    public enum Input: Sendable, Equatable {
        case reserved(sku: String)
        case reservationRefused(sku: String, reason: String)
        case reservationExpired(sku: String)
        case paymentProcessed
        case paymentFailed(reason: String)
        case shipmentCreated(shipmentId: String)
        case shipmentDispatched
        case deliveryCompleted
        case cancel(reason: String)
        /// Time passing (the runtime's timer records): deadlines are checked against it.
        case tick
    }

    /// What the saga asks for.
    public enum Request: Sendable, Equatable {
        case reserve(sku: String, quantity: Int, reservationId: String)
        case release(reservationId: String)
        case confirm(reservationId: String)
        case processPayment(paymentId: String, amount: Money)
        case refund(paymentId: String, amount: Money)
        case createShipment(shipmentId: String)
        case cancelShipment(shipmentId: String)
    }

    public struct Deadlines: Codable, Sendable, Equatable {
        public var reservation: TimeInterval
        public var payment: TimeInterval
        public var shipment: TimeInterval
        public var delivery: TimeInterval

        public init(reservation: TimeInterval = 30, payment: TimeInterval = 60, shipment: TimeInterval = 60, delivery: TimeInterval = 14 * 86_400) {
            self.reservation = reservation
            self.payment = payment
            self.shipment = shipment
            self.delivery = delivery
        }
    }

    public let orderId: String
    public let lines: [OrderLine]
    public let total: Money
    public private(set) var status: Status
    public private(set) var reserved: Set<String> = []
    public private(set) var paid = false
    public private(set) var shipmentId: String?
    public private(set) var dispatched = false
    public private(set) var deadline: Date
    public private(set) var endReason: String?
    /// Every step with its time, for the order's history and operators' timelines.
    public private(set) var history: [Step] = []
    let deadlines: Deadlines

    public struct Step: Codable, Sendable, Equatable {
        public var name: String
        public var at: Date
    }

    public var paymentId: String { "pay-\(orderId)" }
    public func reservationId(_ sku: String) -> String { "res-\(orderId)-\(sku)" }

    /// Starts a saga for an order: it asks inventory to reserve every line.
    public static func start(orderId: String, lines: [OrderLine], at now: Date, deadlines: Deadlines = Deadlines()) throws(MoneyError) -> (OrderSaga, [Request]) {
        var total = Money.zero(lines.first?.unitPrice.currency ?? "VND")
        for line in lines { total = try total.adding(line.unitPrice.times(line.quantity)) }
        var saga = OrderSaga(orderId: orderId, lines: lines, total: total, status: .reserving, deadline: now + deadlines.reservation, deadlines: deadlines)
        saga.history.append(Step(name: "created", at: now))
        let requests = lines.map { Request.reserve(sku: $0.sku, quantity: $0.quantity, reservationId: saga.reservationId($0.sku)) }
        return (saga, requests)
    }

    /// Applies one input at `now`. - Returns: the requests to send (empty when the input changes nothing).
    public mutating func handle(_ input: Input, at now: Date) -> [Request] {
        guard !status.isTerminal else { return [] }
        switch (status, input) {
        case (.reserving, .reserved(let sku)):
            reserved.insert(sku)
            history.append(Step(name: "reserved \(sku)", at: now))
            guard Set(lines.map(\.sku)).isSubset(of: reserved) else { return [] }
            status = .awaitingPayment
            deadline = now + deadlines.payment
            history.append(Step(name: "awaiting payment", at: now))
            return [.processPayment(paymentId: paymentId, amount: total)]

        case (.reserving, .reservationRefused(let sku, let reason)), (.awaitingPayment, .reservationRefused(let sku, let reason)):
            return end(.failed, "\(sku): \(reason)", at: now)

        case (_, .reservationExpired(let sku)) where !paid:
            reserved.remove(sku)
            return end(.failed, "reservation of \(sku) expired", at: now)

        case (.awaitingPayment, .paymentProcessed):
            paid = true
            status = .shipping
            shipmentId = "ship-\(orderId)"
            deadline = now + deadlines.shipment
            history.append(Step(name: "paid", at: now))
            return lines.map { .confirm(reservationId: reservationId($0.sku)) } + [.createShipment(shipmentId: shipmentId!)]

        case (.awaitingPayment, .paymentFailed(let reason)):
            return end(.failed, "payment failed: \(reason)", at: now)

        case (.shipping, .shipmentCreated):
            history.append(Step(name: "shipment created", at: now))
            deadline = now + deadlines.delivery
            return []

        case (.shipping, .shipmentDispatched):
            dispatched = true
            history.append(Step(name: "dispatched", at: now))
            return []

        case (.shipping, .deliveryCompleted):
            status = .fulfilled
            history.append(Step(name: "fulfilled", at: now))
            return []

        case (_, .cancel(let reason)):
            if dispatched { return [] }  // too late: the parcel is on its way
            return end(.cancelled, reason, at: now)

        case (_, .tick) where now >= deadline:
            let step = status == .reserving ? "reservation" : status == .awaitingPayment ? "payment" : "delivery"
            return end(.failed, "\(step) timed out", at: now)

        default:
            return []
        }
    }

    /// Ends the order, undoing what was done: reservations released (or, once paid, the payment refunded
    /// and the undispatched shipment cancelled).
    private mutating func end(_ terminal: Status, _ reason: String, at now: Date) -> [Request] {
        var compensations: [Request] = []
        if paid {
            compensations.append(.refund(paymentId: paymentId, amount: total))
            if let shipmentId, !dispatched { compensations.append(.cancelShipment(shipmentId: shipmentId)) }
        } else {
            compensations += reserved.sorted().map { .release(reservationId: reservationId($0)) }
            reserved.removeAll()
        }
        status = terminal
        endReason = reason
        history.append(Step(name: "\(terminal.rawValue): \(reason)", at: now))
        return compensations
    }
}
