import Commerce
import Contracts
import Foundation
import RoleSupport
import Streams

/// Shipments: created for a paid order, given the carrier the rules choose (or the one named),
/// moved only along `ShipmentStatus`'s transitions as carriers report, delivered once.
public struct ShippingRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics
    public let carriers: CarrierRules

    public struct Topics: Sendable {
        public var commands = "souk.shipping.commands.v1"
        public var events = "souk.shipping.events.v1"
        public init() {}
    }

    public init(name: String = "shipping", carriers: CarrierRules = .standard, topics: Topics = Topics()) {
        self.name = name
        self.carriers = carriers
        self.topics = topics
    }

    public var inputTopics: [String] { [topics.commands] }

    public enum Input: Sendable {
        case create(CreateShipment)
        case assign(AssignCarrier)
        case update(UpdateShipmentStatus)
    }

    public func decode(_ record: InboundRecord) throws -> Input {
        let bytes = record.value ?? []
        switch record.type {
        case CreateShipment.typeName: return .create(try ContractCodec.decode(CreateShipment.self, bytes))
        case AssignCarrier.typeName: return .assign(try ContractCodec.decode(AssignCarrier.self, bytes))
        case UpdateShipmentStatus.typeName: return .update(try ContractCodec.decode(UpdateShipmentStatus.self, bytes))
        default: throw PoisonMessage("the shipping role does not handle \(record.type ?? "a record without ce_type")")
        }
    }

    public func handle(_ input: Input, state: ShipmentState?, context: HandlerContext) throws -> HandlerResult<ShipmentState> {
        let now = context.now
        let requester = ReplyAddress(context.record)
        switch input {
        case .create(let command):
            if state != nil {
                return reject(context, CreateShipment.typeName, command.shipmentId, "shipment \(command.shipmentId) already exists", "/shipmentId", requester)
            }
            var shipment = ShipmentState(command: command, at: now, replyTo: requester)
            var outputs = [try outputs.event(
                ShipmentCreated(shipmentId: command.shipmentId, orderId: command.orderId, address: command.address, weightGrams: command.weightGrams, createdAt: now)
            )]
            // The rules choose at once when a carrier serves the destination; otherwise AssignCarrier later.
            if let rate = carriers.choose(country: command.address.country, weightGrams: command.weightGrams) {
                outputs.append(try shipment.assign(rate, at: now, topic: topics.events))
            }
            return HandlerResult(state: .set(shipment), outputs: shipment.withReplies(outputs))

        case .assign(let command):
            guard var shipment = state else {
                return reject(context, AssignCarrier.typeName, command.shipmentId, "unknown shipment \(command.shipmentId)", "/shipmentId", requester)
            }
            guard shipment.status == .created || shipment.status == .assigned else {
                return reject(context, AssignCarrier.typeName, command.shipmentId, "a shipment that is \(shipment.status.rawValue) cannot change carrier", "/shipmentId", shipment.replyTo)
            }
            guard let rate = carriers.choose(country: shipment.address.country, weightGrams: shipment.weightGrams, preferred: command.carrier) else {
                let what = command.carrier.map { "carrier \($0) does not" } ?? "no carrier does"
                return reject(context, AssignCarrier.typeName, command.shipmentId, "\(what) serve \(shipment.address.country) at \(shipment.weightGrams) g", "/carrier", shipment.replyTo)
            }
            let output = try shipment.assign(rate, at: now, topic: topics.events)
            return HandlerResult(state: .set(shipment), outputs: shipment.withReplies([output]))

        case .update(let command):
            guard var shipment = state else {
                return reject(context, UpdateShipmentStatus.typeName, command.shipmentId, "unknown shipment \(command.shipmentId)", "/shipmentId", requester)
            }
            guard let next = ShipmentStatus(rawValue: command.status), shipment.status.canMove(to: next) else {
                return reject(
                    context, UpdateShipmentStatus.typeName, command.shipmentId,
                    "a shipment cannot move from \(shipment.status.rawValue) to \(command.status)", "/status", shipment.replyTo
                )
            }
            let previous = shipment.status
            shipment.status = next
            shipment.history.append(.init(status: next.rawValue, at: now, location: command.location, note: command.note))
            var outputs = [try outputs.event(ShipmentStatusUpdated(
                shipmentId: shipment.shipmentId, orderId: shipment.orderId, previousStatus: previous.rawValue, status: next.rawValue,
                location: command.location, note: command.note, updatedAt: now
            ))]
            if next == .delivered {
                outputs.append(try self.outputs.event(DeliveryCompleted(shipmentId: shipment.shipmentId, orderId: shipment.orderId, deliveredAt: now)))
            }
            return HandlerResult(state: .set(shipment), outputs: shipment.withReplies(outputs))
        }
    }

    private var outputs: ContextOutputs { ContextOutputs(eventsTopic: topics.events) }

    private func reject(_ context: HandlerContext, _ type: String, _ shipmentId: String, _ reason: String, _ field: String, _ replyTo: ReplyAddress?) -> HandlerResult<ShipmentState> {
        outputs.rejected(commandId: context.record.id, commandType: type, aggregateId: shipmentId, reason: reason, field: field, copyTo: replyTo)
    }
}

/// One shipment as the shipping role keeps it.
public struct ShipmentState: Codable, Sendable, Equatable {
    public struct Tracking: Codable, Sendable, Equatable {
        public var status: String
        public var at: Date
        public var location: String?
        public var note: String?
    }

    public var shipmentId: String
    public var orderId: String
    public var status: ShipmentStatus
    public var address: Address
    public var weightGrams: Int
    public var declaredValue: Money
    public var carrier: String?
    public var service: String?
    public var cost: Money?
    public var history: [Tracking]
    public var replyTo: ReplyAddress?

    init(command: CreateShipment, at now: Date, replyTo: ReplyAddress?) {
        shipmentId = command.shipmentId
        orderId = command.orderId
        status = .created
        address = command.address
        weightGrams = command.weightGrams
        declaredValue = command.declaredValue
        history = [Tracking(status: ShipmentStatus.created.rawValue, at: now)]
        self.replyTo = replyTo
    }

    mutating func assign(_ rate: CarrierRate, at now: Date, topic: String) throws -> OutboundMessage {
        carrier = rate.carrier
        service = rate.service
        cost = rate.price(weightGrams: weightGrams)
        if status != .assigned { history.append(Tracking(status: ShipmentStatus.assigned.rawValue, at: now, note: rate.carrier)) }
        status = .assigned
        let event = CarrierAssigned(
            shipmentId: shipmentId, orderId: orderId, carrier: rate.carrier, service: rate.service, cost: cost!, estimatedDeliveryDays: rate.deliveryDays,
            assignedAt: now
        )
        return try ContextOutputs(eventsTopic: topic).event(event)
    }

    /// The events, and a copy of each for whoever created the shipment.
    func withReplies(_ outputs: [OutboundMessage]) -> [OutboundMessage] {
        guard let replyTo else { return outputs }
        return outputs + outputs.map(replyTo.copy)
    }
}
