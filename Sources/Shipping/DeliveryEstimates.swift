import Commerce
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
