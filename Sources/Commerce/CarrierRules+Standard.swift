import Contracts

/// GetDeliveryEstimate, answered from the carrier rules (no read model: the rate card is configuration).
public struct DeliveryEstimateView: Codable, Sendable, Equatable {
    public var country: String
    public var carrier: String?
    public var days: Int
}

extension CarrierRules {
    public func estimate(_ query: GetDeliveryEstimate) -> DeliveryEstimateView? {
        estimate(country: query.country, carrier: query.carrier).map { DeliveryEstimateView(country: query.country, carrier: query.carrier, days: $0) }
    }
}

extension CarrierRules {
    /// The built-in rate card: three domestic carriers and one international one.
    public static let standard = CarrierRules(rates: [
        CarrierRate(carrier: "vnpost", service: "standard", countries: ["VN"], maxWeightGrams: 30_000, basePrice: Money(20_000, "VND"), pricePerKilogram: Money(5_000, "VND"), deliveryDays: 4),
        CarrierRate(carrier: "ghn", service: "express", countries: ["VN"], maxWeightGrams: 5_000, basePrice: Money(25_000, "VND"), pricePerKilogram: Money(2_000, "VND"), deliveryDays: 2),
        CarrierRate(carrier: "ghtk", service: "economy", countries: ["VN"], maxWeightGrams: 20_000, basePrice: Money(18_000, "VND"), pricePerKilogram: Money(6_000, "VND"), deliveryDays: 5),
        CarrierRate(carrier: "dhl", service: "international", countries: ["VN", "SG", "TH", "MY", "JP", "DE", "FR", "US"], maxWeightGrams: 70_000, basePrice: Money(300_000, "VND"), pricePerKilogram: Money(50_000, "VND"), deliveryDays: 6),
    ])
}
