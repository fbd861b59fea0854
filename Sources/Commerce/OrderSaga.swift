import Contracts
import Foundation

/// The order saga's decisions, as a pure state machine: given what happened, what the saga asks the
/// other contexts to do, and how the order's status moves. Every step has a deadline; a `tick` past it
/// compensates what was done and ends the order, so each order reaches exactly one terminal state.
/// Answers that arrive after the end (a reservation, a payment, a shipment still in flight) are undone.
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
        /// A reservation became a sale (after payment).
        case stockConfirmed(sku: String)
        case paymentProcessed
        case paymentFailed(reason: String)
        case shipmentCreated(shipmentId: String)
        case shipmentDispatched
        case deliveryCompleted
        case cancel(reason: String)
        /// An operator ends the order as failed.
        case fail(reason: String)
        /// Time passing (the runtime's timer records): deadlines are checked against it.
        case tick
    }

    /// What the saga asks for.
    public enum Request: Sendable, Equatable {
        case reserve(sku: String, quantity: Int, reservationId: String)
        case release(sku: String, reservationId: String)
        case confirm(sku: String, quantity: Int, reservationId: String)
        /// Sold stock that never left comes back (an order ended after payment).
        case returnStock(sku: String, quantity: Int, reservationId: String)
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

    /// Why an order cannot be cancelled (or otherwise ended) now.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case alreadyEnded(Status)
        case alreadyDispatched
        case notShipping

        public var description: String {
            switch self {
            case .alreadyEnded(let status): "the order is already \(status.rawValue)"
            case .alreadyDispatched: "the parcel has been dispatched; it can no longer be cancelled"
            case .notShipping: "only an order whose shipment exists can be marked fulfilled"
            }
        }
    }

    public let orderId: String
    public let lines: [OrderLine]
    public let total: Money
    /// The parcel's weight from the products' own (absent in sagas started before weights were kept).
    public let weightGrams: Int?
    public private(set) var status: Status
    public private(set) var reserved: Set<String> = []
    public private(set) var confirmed: Set<String> = []
    public private(set) var paid = false
    public private(set) var refundRequested = false
    public private(set) var shipmentId: String?
    public private(set) var shipmentCancelled = false
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
    public var plannedShipmentId: String { "ship-\(orderId)" }
    public func reservationId(_ sku: String) -> String { Self.reservationId(orderId: orderId, sku: sku) }

    /// The id under which an order's saga reserves a SKU.
    public static func reservationId(orderId: String, sku: String) -> String { "res-\(orderId)-\(sku)" }
    func quantity(_ sku: String) -> Int { lines.filter { $0.sku == sku }.reduce(0) { $0 + $1.quantity } }
    var skus: [String] { Array(Set(lines.map(\.sku))).sorted() }
    /// What the parcel weighs for the carrier's rules.
    public var parcelGrams: Int { weightGrams ?? max(1, lines.reduce(0) { $0 + $1.quantity } * OrderPricing.defaultItemGrams) }

    /// What the saga waits for now, for operators.
    public var waitingFor: String? {
        switch status {
        case .reserving: "stock reservations for \(skus.filter { !reserved.contains($0) }.joined(separator: ", "))"
        case .awaitingPayment: "payment \(paymentId)"
        case .shipping: dispatched ? "delivery of \(shipmentId ?? plannedShipmentId)" : "shipment \(shipmentId ?? plannedShipmentId) to be dispatched"
        case .fulfilled, .cancelled, .failed: nil
        }
    }

    /// Starts a saga for an order charging the lines' sum less `discount`: it asks inventory to reserve every SKU (lines of one SKU together).
    public static func start(
        orderId: String,
        lines: [OrderLine],
        weightGrams: Int? = nil,
        discount: Money? = nil,
        at now: Date,
        deadlines: Deadlines = Deadlines()
    ) throws(MoneyError) -> (OrderSaga, [Request]) {
        var total = Money.zero(lines.first?.unitPrice.currency ?? "VND")
        for line in lines {
            guard (1...Cart.maxQuantityPerLine).contains(line.quantity) else { throw .quantity(line.quantity) }
            total = try total.adding(line.unitPrice.times(line.quantity))
        }
        if let discount { total = try total.subtractingFlooringAtZero(discount) }
        var saga = OrderSaga(
            orderId: orderId, lines: lines, total: total, weightGrams: weightGrams, status: .reserving, deadline: now + deadlines.reservation,
            deadlines: deadlines
        )
        saga.history.append(Step(name: "created", at: now))
        let requests = saga.skus.map { Request.reserve(sku: $0, quantity: saga.quantity($0), reservationId: saga.reservationId($0)) }
        return (saga, requests)
    }

    /// Records a step that changes nothing (a refund completed, a parcel moving) in the history.
    public mutating func note(_ step: String, at now: Date) {
        history.append(Step(name: step, at: now))
    }

    /// Whether `cancel` would be accepted now.
    public func canCancel() -> Refusal? {
        if status.isTerminal { return .alreadyEnded(status) }
        if dispatched { return .alreadyDispatched }
        return nil
    }

    /// Applies one input at `now`. - Returns: the requests to send (empty when the input changes nothing).
    public mutating func handle(_ input: Input, at now: Date) -> [Request] {
        guard !status.isTerminal else { return undoLate(input, at: now) }
        switch (status, input) {
        case (.reserving, .reserved(let sku)):
            reserved.insert(sku)
            history.append(Step(name: "reserved \(sku)", at: now))
            guard Set(skus).isSubset(of: reserved) else { return [] }
            if total.amountMinor == 0 {
                // A coupon took it all: nothing to charge, so on to shipping at once.
                paid = true
                history.append(Step(name: "nothing to pay", at: now))
                return ship(at: now)
            }
            status = .awaitingPayment
            deadline = now + deadlines.payment
            history.append(Step(name: "awaiting payment", at: now))
            return [.processPayment(paymentId: paymentId, amount: total)]

        case (_, .reservationRefused(let sku, let reason)):
            return end(.failed, "\(sku): \(reason)", at: now)

        case (_, .reservationExpired(let sku)) where !paid:
            reserved.remove(sku)
            return end(.failed, "reservation of \(sku) expired", at: now)

        case (.shipping, .stockConfirmed(let sku)):
            confirmed.insert(sku)
            return []

        case (.awaitingPayment, .paymentProcessed):
            paid = true
            history.append(Step(name: "paid", at: now))
            return ship(at: now)

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
            guard canCancel() == nil else { return [] }
            return end(.cancelled, reason, at: now)

        case (_, .fail(let reason)):
            return end(.failed, reason, at: now)

        case (_, .tick) where now >= deadline:
            let step = status == .reserving ? "reservation" : status == .awaitingPayment ? "payment" : dispatched ? "delivery" : "shipment"
            return end(.failed, "\(step) timed out", at: now)

        default:
            return []
        }
    }

    /// Paid (or nothing to pay): the reservations become sales and the parcel is asked for.
    private mutating func ship(at now: Date) -> [Request] {
        status = .shipping
        shipmentId = plannedShipmentId
        deadline = now + deadlines.shipment
        return skus.map { .confirm(sku: $0, quantity: quantity($0), reservationId: reservationId($0)) } + [.createShipment(shipmentId: plannedShipmentId)]
    }

    /// Ends the order, undoing what was done: reservations released; once paid, the payment refunded,
    /// the undispatched shipment cancelled and sold stock returned.
    private mutating func end(_ terminal: Status, _ reason: String, at now: Date) -> [Request] {
        var compensations: [Request] = []
        if !paid {
            compensations = reserved.sorted().map { .release(sku: $0, reservationId: reservationId($0)) }
            reserved.removeAll()
        } else {
            // Confirmations still in flight come back as late `stockConfirmed` and are returned then.
            compensations += confirmed.sorted().map { .returnStock(sku: $0, quantity: quantity($0), reservationId: reservationId($0)) }
            if total.amountMinor > 0 {
                compensations.append(.refund(paymentId: paymentId, amount: total))
                refundRequested = true
            }
            if let shipmentId, !dispatched {
                compensations.append(.cancelShipment(shipmentId: shipmentId))
                shipmentCancelled = true
            }
        }
        status = terminal
        endReason = reason
        history.append(Step(name: "\(terminal.rawValue): \(reason)", at: now))
        return compensations
    }

    /// An answer to a request made before the order ended: what it did is undone at once.
    private mutating func undoLate(_ input: Input, at now: Date) -> [Request] {
        guard status != .fulfilled else { return [] }
        switch input {
        case .reserved(let sku):
            history.append(Step(name: "late reservation of \(sku) released", at: now))
            return [.release(sku: sku, reservationId: reservationId(sku))]
        case .stockConfirmed(let sku):
            history.append(Step(name: "late sale of \(sku) returned", at: now))
            return [.returnStock(sku: sku, quantity: quantity(sku), reservationId: reservationId(sku))]
        case .paymentProcessed where !refundRequested:
            paid = true
            refundRequested = true
            history.append(Step(name: "late payment refunded", at: now))
            return [.refund(paymentId: paymentId, amount: total)]
        case .shipmentCreated(let id) where !shipmentCancelled:
            shipmentCancelled = true
            return [.cancelShipment(shipmentId: id)]
        default:
            return []
        }
    }
}
