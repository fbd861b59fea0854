import Contracts

/// A carrier's offer: where it delivers, up to what weight, at what price, how fast.
public struct CarrierRate: Codable, Sendable, Equatable {
    public var carrier: String
    public var service: String
    public var countries: Set<String>
    public var maxWeightGrams: Int
    public var basePrice: Money
    public var pricePerKilogram: Money
    public var deliveryDays: Int

    public init(carrier: String, service: String, countries: Set<String>, maxWeightGrams: Int, basePrice: Money, pricePerKilogram: Money, deliveryDays: Int) {
        self.carrier = carrier
        self.service = service
        self.countries = countries
        self.maxWeightGrams = maxWeightGrams
        self.basePrice = basePrice
        self.pricePerKilogram = pricePerKilogram
        self.deliveryDays = deliveryDays
    }

    /// Base price plus the price per started kilogram.
    public func price(weightGrams: Int) -> Money {
        let kilograms = (weightGrams + 999) / 1_000
        return Money(basePrice.amountMinor + kilograms * pricePerKilogram.amountMinor, basePrice.currency)
    }

    public func serves(country: String, weightGrams: Int) -> Bool {
        countries.contains(country) && (1...maxWeightGrams).contains(weightGrams)
    }
}

/// Chooses a carrier by rules: it must serve the destination and carry the weight; the cheapest wins,
/// the faster on a tie, then the name (so the choice is deterministic).
public struct CarrierRules: Sendable {
    public var rates: [CarrierRate]

    public init(rates: [CarrierRate]) {
        self.rates = rates
    }

    public func choose(country: String, weightGrams: Int, preferred: String? = nil) -> CarrierRate? {
        let candidates = rates.filter { $0.serves(country: country, weightGrams: weightGrams) && (preferred == nil || $0.carrier == preferred) }
        return candidates.min { a, b in
            (a.price(weightGrams: weightGrams).amountMinor, a.deliveryDays, a.carrier) < (b.price(weightGrams: weightGrams).amountMinor, b.deliveryDays, b.carrier)
        }
    }

    /// Days to deliver to `country`: the fastest serving carrier's, or the named carrier's.
    public func estimate(country: String, carrier: String? = nil) -> Int? {
        rates.filter { $0.countries.contains(country) && (carrier == nil || $0.carrier == carrier) }.map(\.deliveryDays).min()
    }
}
