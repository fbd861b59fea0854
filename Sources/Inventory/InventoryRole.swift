import Commerce
import Contracts
import Foundation
import RoleSupport
import Streams

/// Stock per SKU: UpdateInventory (set or adjust), and the order saga's reservations, confirmations,
/// releases and returns. A reservation holds stock until its timer (or any later request for the SKU)
/// finds it expired; then it is released and the order is told. `StockLevel` never oversells.
public struct InventoryRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics
    /// How long a reservation holds stock without being confirmed.
    public let reservationTTL: TimeInterval

    public struct Topics: Sendable {
        public var commands = "souk.inventory.commands.v1"
        public var events = "souk.inventory.events.v1"
        public var reservations = "souk.inventory.reservations.v1"
        /// Where the timer role delivers reservations' expiries (its only writer).
        public var expiries = "souk.inventory.expiries.v1"
        /// Where this role schedules its timers (its only writer).
        public var timers = "souk.timers.inventory-requests.v1"
        public init() {}
    }

    public init(name: String = "inventory", topics: Topics = Topics(), reservationTTL: TimeInterval = 900) {
        self.name = name
        self.topics = topics
        self.reservationTTL = reservationTTL
    }

    public var inputTopics: [String] { [topics.commands, topics.reservations, topics.expiries] }

    public enum Input: Sendable, Equatable {
        case update(UpdateInventory)
        case reserve(ReserveStock)
        case release(ReleaseStock)
        case confirm(ConfirmStock)
        case returnStock(ReturnStock)
        case expire(ExpireReservation)
    }

    public func decode(_ record: InboundRecord) throws -> Input {
        guard let type = record.type else { throw PoisonMessage("missing ce_type header") }
        switch type {
        case UpdateInventory.typeName: return .update(try ContractCodec.decode(UpdateInventory.self, record.value ?? []))
        case ReserveStock.type: return .reserve(try .decode(record))
        case ReleaseStock.type: return .release(try .decode(record))
        case ConfirmStock.type: return .confirm(try .decode(record))
        case ReturnStock.type: return .returnStock(try .decode(record))
        case ExpireReservation.type: return .expire(try .decode(record))
        default: throw PoisonMessage("the inventory role does not handle \(type)")
        }
    }

    public func handle(_ input: Input, state: InventoryState?, context: HandlerContext) throws -> HandlerResult<InventoryState> {
        var state = state ?? InventoryState()
        let now = context.now
        let before = state.stock
        var outputs: [OutboundMessage] = []
        let events = ContextOutputs(eventsTopic: topics.events)
        let requester = ReplyAddress(context.record)

        func answer(_ outcome: StockAnswer.Outcome, _ id: String, _ orderId: String, _ sku: String, _ quantity: Int, reason: String? = nil, to address: ReplyAddress?) throws {
            guard let address else { return }
            let message = StockAnswer(outcome: outcome, reservationId: id, orderId: orderId, sku: sku, quantity: quantity, reason: reason)
            outputs.append(try events.internalMessage(address.topic, key: address.key, type: StockAnswer.type, message))
        }

        let timers = TimerClient(topic: topics.timers)
        func timerID(_ reservationId: String) -> String { "inventory:\(reservationId)" }
        /// A reservation that ends before its time takes its timer with it: pending timers stay as few
        /// as the reservations open.
        func cancelTimer(_ reservationId: String) throws {
            outputs.append(try timers.cancel(timerID(reservationId), key: skuOf(input)))
        }

        // Whatever arrives, reservations past their time go first (the timer may be late).
        for (id, reservation) in state.stock.expire(at: now) {
            try answer(.expired, id, reservation.orderId, skuOf(input), reservation.quantity, to: state.replies.removeValue(forKey: id))
            if case .expire(let expiry) = input, expiry.reservationId == id { continue }  // its timer just fired
            try cancelTimer(id)
        }

        switch input {
        case .update(let command):
            do {
                if command.mode == "set" { try state.stock.set(available: command.quantity) } else { try state.stock.adjust(by: command.quantity) }
            } catch {
                outputs.append(try events.rejection(
                    commandId: context.record.id, commandType: UpdateInventory.typeName, aggregateId: command.sku, reason: error.description, field: "/quantity"
                ))
            }

        case .reserve(let request):
            let expiresAt = now + reservationTTL
            let known = state.stock.reservations[request.reservationId] != nil
            if let refusal = attempt({ () throws(StockLevel.Refusal) in
                try state.stock.reserve(request.reservationId, orderId: request.orderId, quantity: request.quantity, expiresAt: expiresAt)
            }) {
                try answer(.refused, request.reservationId, request.orderId, request.sku, request.quantity, reason: refusal.description, to: requester)
            } else {
                if !known {
                    state.replies[request.reservationId] = requester
                    outputs.append(try timers.schedule(
                        timerID(request.reservationId), at: expiresAt, key: request.sku,
                        deliver: ExpireReservation(reservationId: request.reservationId, sku: request.sku), type: ExpireReservation.type,
                        to: topics.expiries, correlationID: request.orderId
                    ))
                }
                try answer(.reserved, request.reservationId, request.orderId, request.sku, request.quantity, to: requester)
            }

        case .release(let request):
            if let reservation = try? state.stock.release(request.reservationId) {
                state.replies[request.reservationId] = nil
                try cancelTimer(request.reservationId)
                try answer(.released, request.reservationId, request.orderId, request.sku, reservation.quantity, to: requester)
            }

        case .confirm(let request):
            let reserved = state.stock.reservations[request.reservationId] != nil
            let refusal = attempt { () throws(StockLevel.Refusal) in
                if reserved {
                    try state.stock.confirm(request.reservationId)
                } else {
                    // The reservation expired before the payment came; sell directly if the stock is there.
                    try state.stock.sell(request.quantity)
                }
            }
            if let refusal {
                try answer(.refused, request.reservationId, request.orderId, request.sku, request.quantity, reason: refusal.description, to: requester)
            } else {
                state.replies[request.reservationId] = nil
                if reserved { try cancelTimer(request.reservationId) }
                try answer(.confirmed, request.reservationId, request.orderId, request.sku, request.quantity, to: requester)
            }

        case .returnStock(let request):
            do {
                try state.stock.returnSold(request.quantity)
            } catch {
                throw PoisonMessage("cannot return \(request.quantity) of \(request.sku): only \(state.stock.sold) sold")
            }
            try answer(.returned, request.reservationId, request.orderId, request.sku, request.quantity, to: requester)

        case .expire:
            break  // done above, if it was still open and due
        }

        guard state.stock != before || !outputs.isEmpty else { return HandlerResult() }
        if state.stock != before {
            let sku = skuOf(input)
            outputs.append(try events.event(InventoryUpdated(sku: sku, available: state.stock.available, reserved: state.stock.reserved, sold: state.stock.sold, updatedAt: now)))
        }
        return HandlerResult(state: .set(state), outputs: outputs)
    }

    private func attempt(_ body: () throws(StockLevel.Refusal) -> Void) -> StockLevel.Refusal? {
        do throws(StockLevel.Refusal) {
            try body()
            return nil
        } catch {
            return error
        }
    }

    private func skuOf(_ input: Input) -> String {
        switch input {
        case .update(let c): c.sku
        case .reserve(let r): r.sku
        case .release(let r): r.sku
        case .confirm(let r): r.sku
        case .returnStock(let r): r.sku
        case .expire(let r): r.sku
        }
    }
}

/// One SKU's stock, and where to tell each open reservation's order when it expires.
public struct InventoryState: Codable, Sendable, Equatable {
    public var stock = StockLevel()
    public var replies: [String: ReplyAddress] = [:]
    public init() {}
}
