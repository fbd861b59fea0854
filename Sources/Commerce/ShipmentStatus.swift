/// A shipment's life: created → assigned → picked_up → in_transit → delivered, with exceptions
/// (and back to transit after one), and cancellation before pickup.
public enum ShipmentStatus: String, Codable, Sendable, CaseIterable {
    case created, assigned, pickedUp = "picked_up", inTransit = "in_transit", delivered, exception, cancelled

    public var isTerminal: Bool { self == .delivered || self == .cancelled }

    /// Whether a carrier's report may move a shipment from `self` to `next`.
    public func canMove(to next: ShipmentStatus) -> Bool {
        switch (self, next) {
        case (.created, .assigned), (.assigned, .pickedUp), (.pickedUp, .inTransit), (.inTransit, .delivered): true
        case (.created, .cancelled), (.assigned, .cancelled): true
        case (.assigned, .exception), (.pickedUp, .exception), (.inTransit, .exception): true
        case (.exception, .inTransit), (.exception, .delivered), (.exception, .cancelled): true
        default: false
        }
    }
}
