import Contracts

/// An order waiting for the catalog before it starts: what the customer asked for, and the catalog's
/// answer for each product so far. Once every product has answered, `priced()` gives the lines at
/// the catalog's prices and the parcel's weight, or why the order cannot be placed.
public struct OrderPricing: Codable, Sendable, Equatable {
    /// What the catalog says of one product.
    public enum Answer: Codable, Sendable, Equatable {
        case offered(sku: String, price: Money, weightGrams: Int?)
        case refused(String)
    }

    public let items: [OrderItem]
    /// Whether the items' own prices are charged (a trusted system principal set every one); the
    /// catalog still vouches for each product and SKU, and weighs them.
    public let callerPriced: Bool
    public private(set) var answers: [String: Answer] = [:]

    /// - Parameter trusted: the command comes from a trusted system principal; its prices count
    ///   when every item carries one.
    public init(items: [OrderItem], trusted: Bool) {
        self.items = items
        callerPriced = trusted && !items.isEmpty && items.allSatisfy { $0.unitPrice != nil }
    }

    /// The products to ask about, each once.
    public var productIds: [String] { Array(Set(items.map(\.productId))).sorted() }
    public var isComplete: Bool { productIds.allSatisfy { answers[$0] != nil } }

    /// Records the catalog's answer for a product of this order (answers for others are ignored).
    public mutating func receive(_ answer: Answer, for productId: String) {
        guard items.contains(where: { $0.productId == productId }) else { return }
        answers[productId] = answer
    }

    /// The lines at the catalog's prices, once every product has answered.
    public func priced() -> Result<PricedOrder, PricingRefusal> {
        var offers: [(sku: String, price: Money, weightGrams: Int?)] = []
        for (index, item) in items.enumerated() {
            switch answers[item.productId] {
            case .none:
                return .failure(PricingRefusal("line \(index): no price for product \(item.productId) yet", field: "/lines/\(index)/productId"))
            case .refused(let reason):
                return .failure(PricingRefusal("line \(index): \(reason)", field: "/lines/\(index)/productId"))
            case .offered(let sku, let price, let weight):
                guard sku == item.sku else {
                    return .failure(PricingRefusal(
                        "line \(index): SKU \(item.sku) is not product \(item.productId)'s (its SKU is \(sku))", field: "/lines/\(index)/sku"
                    ))
                }
                offers.append((sku, price, weight))
            }
        }
        let lines = zip(items, offers).map { item, offer in
            let caller = callerPriced ? item.unitPrice : nil
            return OrderLine(
                productId: item.productId, sku: item.sku, quantity: item.quantity, unitPrice: caller ?? offer.price,
                priceSource: caller == nil ? OrderLine.catalogPrice : OrderLine.callerPrice
            )
        }
        return Self.check(lines, weights: offers.map(\.weightGrams))
    }

    /// What an item weighs when its product says nothing.
    public static let defaultItemGrams = 500
    /// The heaviest parcel a shipment takes (`CreateShipment.weightGrams`).
    public static let maxParcelGrams = 1_000_000_000

    /// Priced lines checked together (one currency, a parcel a shipment takes), with their weight.
    public static func check(_ lines: [OrderLine], weights: [Int?]) -> Result<PricedOrder, PricingRefusal> {
        let currencies = Set(lines.map(\.unitPrice.currency))
        guard currencies.count == 1 else {
            return .failure(PricingRefusal("all lines must be in one currency, got \(currencies.sorted().joined(separator: ", "))", field: "/lines"))
        }
        var grams = 0
        for (line, weight) in zip(lines, weights) {
            let (lineGrams, overflow) = (weight ?? defaultItemGrams).multipliedReportingOverflow(by: line.quantity)
            let (sum, overflowed) = grams.addingReportingOverflow(lineGrams)
            guard !overflow, !overflowed, sum <= maxParcelGrams else {
                return .failure(PricingRefusal("the parcel would weigh over \(maxParcelGrams) g", field: "/lines"))
            }
            grams = sum
        }
        return .success(PricedOrder(lines: lines, weightGrams: max(1, grams)))
    }
}

/// An order's lines as charged, and what its parcel weighs.
public struct PricedOrder: Sendable, Equatable {
    public var lines: [OrderLine]
    public var weightGrams: Int
}

/// Why an order cannot be placed, and the field of the command it is about.
public struct PricingRefusal: Error, Sendable, Equatable {
    public var reason: String
    public var field: String

    /// `reason` is clipped to what a `CommandRejected` carries.
    public init(_ reason: String, field: String) {
        self.reason = reason.clipped(to: 1_000)
        self.field = field
    }
}
