import Foundation
import JSONCodec
import Kafka
import Logging
import Orders
import Streams
import Timestamps

/// `souk saga ORDER_ID`: the order's timeline across every topic it touched — commands, events,
/// answers, compensations, timers — with each step's time and the delay since the previous one, then
/// the current state and what the saga waits for, read from the saga's own changelog record.
public struct SagaTimeline: Sendable {
    public struct Topics: Sendable {
        public var orderCommands = "souk.order.commands.v1"
        public var orderEvents = "souk.order.events.v1"
        public var stockReplies = "souk.order.stock-replies.v1"
        /// The order being priced: the catalog's quotes, the cart's checkout, the payment method's check.
        public var cartReplies = "souk.order.cart-replies.v1"
        public var customerReplies = "souk.order.customer-replies.v1"
        public var deadlines = "souk.order.deadlines.v1"
        /// The one reply topic of earlier versions, for orders placed before an upgrade.
        public var legacyReplies: String? = "souk.order.saga-replies.v1"
        public var paymentCommands = "souk.payment.commands.v1"
        public var paymentEvents = "souk.payment.events.v1"
        public var shippingCommands = "souk.shipping.commands.v1"
        public var shippingEvents = "souk.shipping.events.v1"
        public var reservations = "souk.inventory.reservations.v1"
        public var timers = "souk.timers.requests.v1"
        public var sagaChangelog = "souk.order-saga.changelog.v1"
        public init() {}
    }

    public struct Step: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case command, event, answer, request, compensation, timer, timeout
        }
        public var at: Date
        public var kind: Kind
        public var name: String
        public var detail: String
        public var topic: String
    }

    public struct Timeline: Sendable {
        public var orderId: String
        public var steps: [Step]
        public var status: String?
        public var waitingFor: String?
        public var deadline: String?
        public var endReason: String?
    }

    public let topics: Topics
    public init(topics: Topics = Topics()) { self.topics = topics }

    /// The keys an order's records carry on each topic.
    func keys(_ orderId: String) -> [String: Set<String>] {
        var keys: [String: Set<String>] = [
            topics.orderCommands: [orderId], topics.orderEvents: [orderId], topics.stockReplies: [orderId], topics.deadlines: [orderId],
            topics.paymentCommands: ["pay-\(orderId)"], topics.paymentEvents: ["pay-\(orderId)"],
            topics.shippingCommands: ["ship-\(orderId)"], topics.shippingEvents: ["ship-\(orderId)"],
            topics.timers: [orderId], topics.sagaChangelog: [orderId], topics.cartReplies: [orderId], topics.customerReplies: [orderId],
        ]
        if let legacy = topics.legacyReplies { keys[legacy] = [orderId] }
        return keys
    }

    public func build(orderId: String, bootstrapServers: String, logger: Logger) async throws -> Timeline {
        let keys = keys(orderId)
        var records: [KafkaConsumerMessage] = []
        let all = Array(keys.keys) + [topics.reservations]
        // Reservations are keyed by SKU: they are matched by the order id in their body.
        let marker = Array("\"orderId\":\"\(orderId)\"".utf8)
        try await TopicTail(topics: all, start: .earliest, follow: false, readUncommitted: false).run(bootstrapServers: bootstrapServers, logger: logger) { message in
            if message.topic == topics.reservations {
                if let value = message.value, value.firstRange(of: marker) != nil { records.append(message) }
            } else if let key = message.keyString, keys[message.topic]?.contains(key) == true {
                records.append(message)
            }
        }
        return assemble(orderId: orderId, records)
    }

    /// Pure: records → timeline (records of aborted transactions the broker showed are dropped by id).
    public func assemble(orderId: String, _ records: [KafkaConsumerMessage]) -> Timeline {
        var seen = Set<String>()
        var steps: [Step] = []
        var state: OrderState?
        for message in records.sorted(by: { ($0.timestampMilliseconds ?? 0, $0.topic, $0.offset) < ($1.timestampMilliseconds ?? 0, $1.topic, $1.offset) }) {
            if message.topic == topics.sagaChangelog {
                // The saga's own record: what it is and what it waits for, as the saga itself says.
                if let value = message.value, let stored = try? SoukJSON.decode(StoredState<OrderState>.self, from: value) { state = stored.state }
                continue
            }
            let id = message.headers.string(CloudEventHeader.id) ?? "\(message.topic):\(message.partition):\(message.offset)"
            guard seen.insert(id).inserted else { continue }
            if let step = step(message) { steps.append(step) }
        }
        let saga = state?.saga
        let running = saga.map { !$0.status.isTerminal } ?? false
        if saga == nil, let pending = state?.pending {
            let waiting = pending.awaitingPaymentMethod ? "the customer's word on the payment method" : state?.cartId.map { "cart \($0)'s checkout" } ?? "the catalog's prices"
            return Timeline(orderId: orderId, steps: steps, status: "being priced", waitingFor: waiting, deadline: pending.deadline.rfc3339)
        }
        return Timeline(
            orderId: orderId, steps: steps, status: saga?.status.rawValue, waitingFor: saga?.waitingFor, deadline: running ? saga?.deadline.rfc3339 : nil,
            endReason: saga?.endReason
        )
    }

    func step(_ message: KafkaConsumerMessage) -> Step? {
        let type = message.headers.string(CloudEventHeader.type)
        let name = RecordFormatter.shortType(type)
        let body = (message.value.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }) ?? [:]
        let at = Date(timeIntervalSince1970: Double(message.timestampMilliseconds ?? 0) / 1000)
        func field(_ key: String) -> String? { body[key].map { "\($0)" } }
        let topic = message.topic
        var kind: Step.Kind
        var detail = ""
        switch (topic, name) {
        case (topics.timers, "Schedule"):
            kind = .timer
            detail = "deadline set for \(field("fireAt") ?? "?")"
        case (topics.timers, "Cancel"):
            kind = .timer
            detail = "deadline cancelled"
        case (topics.timers, _):
            return nil
        case (_, "DeadlineReached") where topic == topics.deadlines || topic == topics.legacyReplies:
            kind = .timeout
            detail = "deadline \(field("deadline") ?? "") reached"
        case (_, "StockAnswer") where topic == topics.stockReplies || topic == topics.legacyReplies:
            kind = .answer
            detail = "\(field("outcome") ?? "?") \(field("quantity") ?? "") × \(field("sku") ?? "")" + (field("reason").map { ": \($0)" } ?? "")
        case _ where topic == topics.legacyReplies:
            return nil  // copies of payment and shipping events, shown from their own topics
        case (topics.cartReplies, "ProductQuote"):
            kind = .answer
            detail = "\(field("productId") ?? "?"): " + (field("refusal") ?? body["price"].map { "\(field("sku") ?? "") at \(Self.money($0))" } ?? "?")
        case (topics.cartReplies, "CartCheckout"):
            kind = .answer
            detail = "cart \(field("cartId") ?? "?"): " + (field("refusal") ?? body["total"].map { "total \(Self.money($0))" } ?? "?")
        case (topics.customerReplies, _):
            kind = .answer
            detail = field("refusal") ?? "the payment method is the customer's own"
        case (topics.reservations, "ReleaseStock"), (topics.reservations, "ReturnStock"):
            kind = .compensation
            detail = "\(field("sku") ?? "")" + (field("quantity").map { " × \($0)" } ?? "")
        case (topics.reservations, _):
            kind = .request
            detail = "\(field("sku") ?? "")" + (field("quantity").map { " × \($0)" } ?? "")
        case (topics.paymentCommands, "RefundPayment"):
            kind = .compensation
            detail = body["amount"].map { "refund \(Self.money($0))" } ?? "refund what is left"
        case (topics.shippingCommands, "UpdateShipmentStatus") where field("status") == "cancelled":
            kind = .compensation
            detail = "cancel shipment"
        case (topics.orderCommands, _), (topics.paymentCommands, _), (topics.shippingCommands, _):
            kind = topic == topics.orderCommands ? .command : .request
            detail = [field("status"), field("reason"), body["amount"].map { Self.money($0) }].compactMap { $0 }.joined(separator: " ")
        default:
            kind = .event
            detail = [field("status"), field("reason"), field("carrier"), body["amount"].map { Self.money($0) }].compactMap { $0 }.joined(separator: " ")
        }
        return Step(at: at, kind: kind, name: name, detail: detail, topic: topic)
    }

    static func money(_ value: Any?) -> String {
        guard let money = value as? [String: Any], let minor = money["amountMinor"], let currency = money["currency"] else { return "" }
        return "\(minor) \(currency)"
    }

    /// The timeline for a terminal: aligned, coloured when asked.
    public static func render(_ timeline: Timeline, colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var lines = ["order \(timeline.orderId)"]
        var previous: Date?
        let colours: [Step.Kind: String] = [.command: "1", .event: "32", .answer: "36", .request: "34", .compensation: "33", .timer: "2", .timeout: "31"]
        for step in timeline.steps {
            let delay = previous.map { String(format: "+%.3fs", step.at.timeIntervalSince($0)) } ?? "+0.000s"
            previous = step.at
            let kind = step.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            let name = step.name.padding(toLength: 22, withPad: " ", startingAt: 0)
            lines.append("\(paint(step.at.rfc3339, "2"))  \(delay.padding(toLength: 10, withPad: " ", startingAt: 0))  \(paint(kind, colours[step.kind] ?? "0"))  \(name)  \(step.detail)")
        }
        lines.append("status: \(timeline.status ?? "unknown (no saga record)")" + (timeline.endReason.map { " (\($0))" } ?? ""))
        if let waiting = timeline.waitingFor { lines.append("waiting for: \(waiting)" + (timeline.deadline.map { ", deadline \($0)" } ?? "")) }
        return lines.joined(separator: "\n")
    }
}
