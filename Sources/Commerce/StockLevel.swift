import Foundation

/// One SKU's stock: what is free to sell, what is held for orders, what is sold. Whatever happens,
/// `available + reserved + sold` changes only when stock is set or adjusted, and no quantity is negative.
public struct StockLevel: Codable, Sendable, Equatable {
    public struct Reservation: Codable, Sendable, Equatable {
        public var orderId: String
        public var quantity: Int
        public var expiresAt: Date
    }

    public private(set) var available = 0
    public private(set) var reserved = 0
    public private(set) var sold = 0
    /// Open reservations by reservation id.
    public private(set) var reservations: [String: Reservation] = [:]

    public init() {}

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case outOfStock(requested: Int, available: Int)
        case wouldGoNegative(available: Int, change: Int)
        case invalidQuantity(Int)
        case negativeStock(Int)
        case unknownReservation(String)
        case tooMuchStock(Int)

        public var description: String {
            switch self {
            case .outOfStock(let requested, let available): "out of stock: \(requested) requested, \(available) available"
            case .wouldGoNegative(let available, let change): "adjusting \(available) available by \(change) would go below zero"
            case .invalidQuantity(let quantity): "quantity must be positive, got \(quantity)"
            case .negativeStock(let quantity): "stock cannot be negative, got \(quantity)"
            case .unknownReservation(let id): "no open reservation \(id)"
            case .tooMuchStock(let quantity): "stock is at most \(StockLevel.maxQuantity), this would make \(quantity)"
            }
        }
    }

    public var total: Int { available + reserved + sold }

    /// The most stock a SKU counts, so that available + reserved + sold never overflows.
    public static let maxQuantity = 1_000_000_000_000

    /// Sets the stock free to sell (what is reserved or sold stays as it is).
    public mutating func set(available quantity: Int) throws(Refusal) {
        guard quantity >= 0 else { throw .negativeStock(quantity) }
        guard quantity <= Self.maxQuantity else { throw .tooMuchStock(quantity) }
        available = quantity
    }

    public mutating func adjust(by change: Int) throws(Refusal) {
        let (adjusted, overflow) = available.addingReportingOverflow(change)
        guard !(overflow && change < 0), adjusted >= 0 else { throw .wouldGoNegative(available: available, change: change) }
        guard !overflow, adjusted <= Self.maxQuantity else { throw .tooMuchStock(overflow ? .max : adjusted) }
        available = adjusted
    }

    /// Holds `quantity` for an order until `expiresAt`. Reserving the same id again is a no-op.
    public mutating func reserve(_ id: String, orderId: String, quantity: Int, expiresAt: Date) throws(Refusal) {
        if reservations[id] != nil { return }
        guard quantity > 0 else { throw .invalidQuantity(quantity) }
        guard quantity <= available else { throw .outOfStock(requested: quantity, available: available) }
        available -= quantity
        reserved += quantity
        reservations[id] = Reservation(orderId: orderId, quantity: quantity, expiresAt: expiresAt)
    }

    /// The order was paid: its reservation becomes a sale.
    @discardableResult
    public mutating func confirm(_ id: String) throws(Refusal) -> Reservation {
        guard let reservation = reservations.removeValue(forKey: id) else { throw .unknownReservation(id) }
        reserved -= reservation.quantity
        sold += reservation.quantity
        return reservation
    }

    /// Sells without a reservation (one that expired before its order was paid), if the stock is there.
    public mutating func sell(_ quantity: Int) throws(Refusal) {
        guard quantity > 0 else { throw .invalidQuantity(quantity) }
        guard quantity <= available else { throw .outOfStock(requested: quantity, available: available) }
        available -= quantity
        sold += quantity
    }

    /// Sold stock that never left (its order ended after payment) is free to sell again.
    public mutating func returnSold(_ quantity: Int) throws(Refusal) {
        guard quantity > 0, quantity <= sold else { throw .invalidQuantity(quantity) }
        sold -= quantity
        available += quantity
    }

    /// Compensation or expiry: the held quantity is free again.
    @discardableResult
    public mutating func release(_ id: String) throws(Refusal) -> Reservation {
        guard let reservation = reservations.removeValue(forKey: id) else { throw .unknownReservation(id) }
        reserved -= reservation.quantity
        available += reservation.quantity
        return reservation
    }

    /// Releases every reservation whose time is up. - Returns: their ids, oldest first.
    public mutating func expire(at now: Date) -> [(id: String, reservation: Reservation)] {
        let due = reservations.filter { $0.value.expiresAt <= now }.sorted { ($0.value.expiresAt, $0.key) < ($1.value.expiresAt, $1.key) }
        for (id, _) in due { _ = try? release(id) }
        return due.map { ($0.key, $0.value) }
    }
}
