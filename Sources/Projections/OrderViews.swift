import Contracts
import Foundation

public struct OrderView: Codable, Sendable, Equatable {
    public var orderId: String
    public var customerId: String
    public var status: String
    public var reason: String?
    public var total: Money
    public var lines: [OrderLine]
    public var shippingAddress: Address
    public var shipmentId: String?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct OrderHistoryView: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        /// The event's name, e.g. `PaymentProcessed`.
        public var event: String
        public var at: Date
        /// Its status or reason, when it has one.
        public var detail: String?
    }

    public var orderId: String
    public var steps: [Step]
}

public struct OrderStatusView: Codable, Sendable, Equatable {
    public var orderId: String
    public var status: String
    public var reason: String?
    /// What the order waits for now (`nil` once it has ended).
    public var waitingFor: String?
    public var updatedAt: Date
}

public struct RefundView: Codable, Sendable, Equatable {
    public var paymentId: String
    public var refundId: String
    public var orderId: String
    public var status: String
    public var amount: Money
    public var providerReference: String?
    public var initiatedAt: Date?
    public var completedAt: Date?
}

public struct PaymentView: Codable, Sendable, Equatable {
    public var paymentId: String
    public var orderId: String
    public var status: String
    public var amount: Money?
    public var captured: Money?
    public var refunded: Money?
    public var provider: String?
    public var providerReference: String?
    public var reason: String?
    public var refunds: [RefundView]
    public var updatedAt: Date
}

public struct ShipmentView: Codable, Sendable, Equatable {
    public var shipmentId: String
    public var orderId: String
    public var status: String
    public var carrier: String?
    public var service: String?
    public var cost: Money?
    public var estimatedDeliveryDays: Int?
    public var weightGrams: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var deliveredAt: Date?
}

public struct TrackingView: Codable, Sendable, Equatable {
    public struct Event: Codable, Sendable, Equatable {
        public var status: String
        public var location: String?
        public var note: String?
        public var at: Date
    }

    public var shipmentId: String
    public var status: String
    public var events: [Event]
}
