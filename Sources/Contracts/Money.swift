/// An amount in integer minor units of an ISO 4217 currency: never a float.
public struct Money: Codable, Sendable, Hashable {
    public var amountMinor: Int
    public var currency: String

    /// Every amount a message carries, and every amount Souk computes, stays within ± this many minor
    /// units (10^15: a quadrillion đồng, ten trillion dollars in cents), so that no sum, product or
    /// percentage of amounts can overflow.
    public static let maxAmountMinor = 1_000_000_000_000_000

    public init(_ amountMinor: Int, _ currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }
}

/// A postal address; `addressId` names it among a customer's addresses.
public struct Address: Codable, Sendable, Hashable {
    public var addressId: String
    public var recipient: String
    public var line1: String
    public var line2: String?
    public var city: String
    public var region: String?
    public var postalCode: String
    /// ISO 3166-1 alpha-2.
    public var country: String

    public init(
        addressId: String,
        recipient: String,
        line1: String,
        line2: String? = nil,
        city: String,
        region: String? = nil,
        postalCode: String,
        country: String
    ) {
        self.addressId = addressId
        self.recipient = recipient
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
    }

    public static let example = Address(
        addressId: "home", recipient: "Lan Nguyen", line1: "12 Hang Bac", city: "Ha Noi", postalCode: "100000", country: "VN"
    )
}

/// Every context's answer to a command it refuses, so that a producer always learns the outcome.
public struct CommandRejected: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "CommandRejected"
    public static let kind = MessageKind.event
    public static let summary = "A command was refused; nothing changed. Carried on every context's events topic."
    /// Context-neutral: the same type on every events topic.
    public static var typeName: String { "souk.CommandRejected.v1" }

    public var commandId: String
    public var commandType: String
    public var aggregateId: String
    public var reason: String
    /// The field at fault, as a JSON pointer, when one is.
    public var field: String?

    public init(commandId: String, commandType: String, aggregateId: String, reason: String, field: String? = nil) {
        self.commandId = commandId
        self.commandType = commandType
        self.aggregateId = aggregateId
        self.reason = reason
        self.field = field
    }

    public var key: String { aggregateId }

    public static let schema = Schema.object([
        .init("commandId", .id()), .init("commandType", .text(max: 200, min: 1)), .init("aggregateId", .id()),
        .init("reason", .text(max: 1000, min: 1)), .init("field", .text(max: 200), required: false),
    ])
    public static let example = CommandRejected(
        commandId: "cmd-7", commandType: "souk.product.SetProductPrice.v1", aggregateId: "prod-1",
        reason: "price must not be negative", field: "/price/amountMinor"
    )

    /// The reason of a rejection that answers a dead-lettered command. Such a rejection is provisional:
    /// if an operator redrives the command and it applies, its outcome becomes that.
    public static func deadLettered(to deadLetterTopic: String, _ why: String) -> String {
        "the command went to \(deadLetterTopic) and changed nothing: \(why)"
    }

    /// Matches `deadLettered(to:_:)`'s reasons, as an SQL `LIKE` pattern.
    public static let deadLetteredPattern = "the command went to %.dlq.v1 and changed nothing: %"
}
