import Foundation

/// Shipment states: created → assigned → picked_up → in_transit → delivered, or an exception.
public let shipmentStatuses = ["created", "assigned", "picked_up", "in_transit", "delivered", "exception", "cancelled"]

public struct CreateShipment: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "CreateShipment"
    public static let kind = MessageKind.command
    public static let summary = "Creates a shipment for a paid order."

    public var shipmentId: String
    public var orderId: String
    public var address: Address
    public var weightGrams: Int
    public var declaredValue: Money
    public init(shipmentId: String, orderId: String, address: Address, weightGrams: Int, declaredValue: Money) {
        self.shipmentId = shipmentId
        self.orderId = orderId
        self.address = address
        self.weightGrams = weightGrams
        self.declaredValue = declaredValue
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([
        .init("shipmentId", .id()), .init("orderId", .id()), .init("address", .address), .init("weightGrams", .integer(minimum: 1, maximum: 1_000_000_000)),
        .init("declaredValue", .money),
    ])
    public static let example = CreateShipment(shipmentId: "ship-order-1", orderId: "order-1", address: .example, weightGrams: 240, declaredValue: Money(238_000, "VND"))
}

public struct AssignCarrier: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "AssignCarrier"
    public static let kind = MessageKind.command
    public static let summary = "Assigns a carrier to a shipment: the one named, or the one the rules choose (destination, weight, price)."

    public var shipmentId: String
    public var carrier: String?
    public init(shipmentId: String, carrier: String? = nil) {
        self.shipmentId = shipmentId
        self.carrier = carrier
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([.init("shipmentId", .id()), .init("carrier", .id(), required: false)])
    public static let example = AssignCarrier(shipmentId: "ship-order-1", carrier: nil)
}

public struct UpdateShipmentStatus: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "UpdateShipmentStatus"
    public static let kind = MessageKind.command
    public static let summary = "A carrier reports progress; only the state machine's transitions are accepted."

    public var shipmentId: String
    public var status: String
    public var location: String?
    public var note: String?
    public init(shipmentId: String, status: String, location: String? = nil, note: String? = nil) {
        self.shipmentId = shipmentId
        self.status = status
        self.location = location
        self.note = note
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([
        .init("shipmentId", .id()), .init("status", .oneOf(shipmentStatuses)), .init("location", .text(max: 200), required: false),
        .init("note", .text(max: 1000), required: false),
    ])
    public static let example = UpdateShipmentStatus(shipmentId: "ship-order-1", status: "in_transit", location: "Da Nang hub", note: nil)
}

public struct ShipmentCreated: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "ShipmentCreated"
    public static let kind = MessageKind.event
    public static let summary = "A shipment was created for an order."

    public var shipmentId: String
    public var orderId: String
    public var address: Address
    public var weightGrams: Int
    public var createdAt: Date
    public init(shipmentId: String, orderId: String, address: Address, weightGrams: Int, createdAt: Date) {
        self.shipmentId = shipmentId
        self.orderId = orderId
        self.address = address
        self.weightGrams = weightGrams
        self.createdAt = createdAt
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([
        .init("shipmentId", .id()), .init("orderId", .id()), .init("address", .address), .init("weightGrams", .integer(minimum: 1, maximum: 1_000_000_000)),
        .init("createdAt", .timestamp),
    ])
    public static let example = ShipmentCreated(shipmentId: "ship-order-1", orderId: "order-1", address: .example, weightGrams: 240, createdAt: Date(timeIntervalSince1970: 1_795_001_200))
}

public struct CarrierAssigned: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "CarrierAssigned"
    public static let kind = MessageKind.event
    public static let summary = "A carrier will carry a shipment; carries its price and delivery estimate."

    public var shipmentId: String
    public var orderId: String
    public var carrier: String
    public var service: String
    public var cost: Money
    public var estimatedDeliveryDays: Int
    public var assignedAt: Date
    public init(
        shipmentId: String,
        orderId: String,
        carrier: String,
        service: String,
        cost: Money,
        estimatedDeliveryDays: Int,
        assignedAt: Date
    ) {
        self.shipmentId = shipmentId
        self.orderId = orderId
        self.carrier = carrier
        self.service = service
        self.cost = cost
        self.estimatedDeliveryDays = estimatedDeliveryDays
        self.assignedAt = assignedAt
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([
        .init("shipmentId", .id()), .init("orderId", .id()), .init("carrier", .id()), .init("service", .text(max: 100, min: 1)),
        .init("cost", .money), .init("estimatedDeliveryDays", .integer(minimum: 0, maximum: 60)), .init("assignedAt", .timestamp),
    ])
    public static let example = CarrierAssigned(
        shipmentId: "ship-order-1", orderId: "order-1", carrier: "vnpost", service: "standard", cost: Money(30_000, "VND"),
        estimatedDeliveryDays: 3, assignedAt: Date(timeIntervalSince1970: 1_795_001_300)
    )
}

public struct ShipmentStatusUpdated: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "ShipmentStatusUpdated"
    public static let kind = MessageKind.event
    public static let summary = "A shipment moved to a new status."

    public var shipmentId: String
    public var orderId: String
    public var previousStatus: String
    public var status: String
    public var location: String?
    public var note: String?
    public var updatedAt: Date
    public init(
        shipmentId: String,
        orderId: String,
        previousStatus: String,
        status: String,
        location: String? = nil,
        note: String? = nil,
        updatedAt: Date
    ) {
        self.shipmentId = shipmentId
        self.orderId = orderId
        self.previousStatus = previousStatus
        self.status = status
        self.location = location
        self.note = note
        self.updatedAt = updatedAt
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([
        .init("shipmentId", .id()), .init("orderId", .id()), .init("previousStatus", .oneOf(shipmentStatuses)),
        .init("status", .oneOf(shipmentStatuses)), .init("location", .text(max: 200), required: false),
        .init("note", .text(max: 1000), required: false), .init("updatedAt", .timestamp),
    ])
    public static let example = ShipmentStatusUpdated(
        shipmentId: "ship-order-1", orderId: "order-1", previousStatus: "picked_up", status: "in_transit", location: "Da Nang hub", note: nil,
        updatedAt: Date(timeIntervalSince1970: 1_795_050_000)
    )
}

public struct DeliveryCompleted: TopicMessage {
    public static let context = BoundedContext.shipping
    public static let name = "DeliveryCompleted"
    public static let kind = MessageKind.event
    public static let summary = "A shipment was delivered."

    public var shipmentId: String
    public var orderId: String
    public var deliveredAt: Date
    public init(shipmentId: String, orderId: String, deliveredAt: Date) {
        self.shipmentId = shipmentId
        self.orderId = orderId
        self.deliveredAt = deliveredAt
    }

    public var key: String { shipmentId }

    public static let schema = Schema.object([.init("shipmentId", .id()), .init("orderId", .id()), .init("deliveredAt", .timestamp)])
    public static let example = DeliveryCompleted(shipmentId: "ship-order-1", orderId: "order-1", deliveredAt: Date(timeIntervalSince1970: 1_795_090_000))
}

public struct GetShipmentStatus: Contract {
    public static let context = BoundedContext.shipping
    public static let name = "GetShipmentStatus"
    public static let kind = MessageKind.query
    public static let summary = "An order's shipment and its status (GET /api/shipments/order/:orderId)."
    public var orderId: String
    public init(orderId: String) {
        self.orderId = orderId
    }

    public static let schema = Schema.object([.init("orderId", .id())])
    public static let example = GetShipmentStatus(orderId: "order-1")
}

public struct TrackShipment: Contract {
    public static let context = BoundedContext.shipping
    public static let name = "TrackShipment"
    public static let kind = MessageKind.query
    public static let summary = "A shipment's status history (GET /api/shipments/:id/track)."
    public var shipmentId: String
    public init(shipmentId: String) {
        self.shipmentId = shipmentId
    }

    public static let schema = Schema.object([.init("shipmentId", .id())])
    public static let example = TrackShipment(shipmentId: "ship-order-1")
}

public struct GetDeliveryEstimate: Contract {
    public static let context = BoundedContext.shipping
    public static let name = "GetDeliveryEstimate"
    public static let kind = MessageKind.query
    public static let summary = "Days to deliver to a destination, by carrier."
    public var country: String
    public var postalCode: String?
    public var carrier: String?
    public init(country: String, postalCode: String? = nil, carrier: String? = nil) {
        self.country = country
        self.postalCode = postalCode
        self.carrier = carrier
    }

    public static let schema = Schema.object([
        .init("country", .string(.init(pattern: "^[A-Z]{2}$"))), .init("postalCode", .text(max: 20), required: false),
        .init("carrier", .id(), required: false),
    ])
    public static let example = GetDeliveryEstimate(country: "VN", postalCode: "100000", carrier: nil)
}
