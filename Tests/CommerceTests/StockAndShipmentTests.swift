import Commerce
import Foundation
import Testing

@Suite struct StockLevelTests {
    let later = Date(timeIntervalSince1970: 1_795_000_600)

    func stock(_ available: Int) throws -> StockLevel {
        var stock = StockLevel()
        try stock.set(available: available)
        return stock
    }

    @Test func reserveConfirmReleaseKeepTheTotal() throws {
        var stock = try stock(10)
        try stock.reserve("r1", orderId: "o1", quantity: 3, expiresAt: later)
        try stock.reserve("r2", orderId: "o2", quantity: 4, expiresAt: later)
        #expect((stock.available, stock.reserved, stock.sold) == (3, 7, 0))
        try stock.confirm("r1")
        try stock.release("r2")
        #expect((stock.available, stock.reserved, stock.sold) == (7, 0, 3))
        #expect(stock.total == 10)
    }

    @Test(arguments: [
        (5, 6, StockLevel.Refusal.outOfStock(requested: 6, available: 5)),
        (5, 0, .invalidQuantity(0)),
    ])
    func neverOversells(available: Int, request: Int, refusal: StockLevel.Refusal) throws {
        var stock = try stock(available)
        #expect(throws: refusal) { try stock.reserve("r", orderId: "o", quantity: request, expiresAt: later) }
        #expect(stock.available == available && stock.reserved == 0)
    }

    @Test func directSalesAndReturnsKeepTheTotal() throws {
        var stock = try stock(4)
        try stock.sell(3)
        #expect(throws: StockLevel.Refusal.outOfStock(requested: 2, available: 1)) { try stock.sell(2) }
        try stock.returnSold(2)
        #expect(throws: StockLevel.Refusal.invalidQuantity(2)) { try stock.returnSold(2) }
        #expect((stock.available, stock.reserved, stock.sold) == (3, 0, 1))
    }

    @Test func reservingTheSameIDTwiceHoldsOnce() throws {
        var stock = try stock(5)
        try stock.reserve("r1", orderId: "o1", quantity: 2, expiresAt: later)
        try stock.reserve("r1", orderId: "o1", quantity: 2, expiresAt: later)
        #expect(stock.reserved == 2)
    }

    @Test func expiredReservationsAreReleasedOldestFirst() throws {
        var stock = try stock(10)
        try stock.reserve("late", orderId: "o2", quantity: 1, expiresAt: later + 60)
        try stock.reserve("early", orderId: "o1", quantity: 2, expiresAt: later)
        try stock.reserve("never", orderId: "o3", quantity: 3, expiresAt: later + 3_600)
        let expired = stock.expire(at: later + 60)
        #expect(expired.map(\.id) == ["early", "late"])
        #expect((stock.available, stock.reserved) == (7, 3))
        #expect(throws: StockLevel.Refusal.unknownReservation("early")) { try stock.confirm("early") }
    }

    @Test func adjustmentsNeverGoBelowZero() throws {
        var stock = try stock(2)
        try stock.adjust(by: 5)
        #expect(throws: StockLevel.Refusal.wouldGoNegative(available: 7, change: -8)) { try stock.adjust(by: -8) }
        #expect(stock.available == 7)
    }

    /// Any interleaving of operations keeps every count non-negative and the total where set/adjust put it.
    @Test func randomInterleavingsKeepTheInvariant() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var stock = try stock(20)
            var stocked = 20
            var ids: [String] = []
            for step in 0..<60 {
                switch Int.random(in: 0..<5, using: &generator) {
                case 0:
                    let id = "r\(step)"
                    if (try? stock.reserve(id, orderId: "o", quantity: Int.random(in: 1...6, using: &generator), expiresAt: later)) != nil { ids.append(id) }
                case 1: if let id = ids.randomElement(using: &generator) { _ = try? stock.confirm(id) }
                case 2: if let id = ids.randomElement(using: &generator) { _ = try? stock.release(id) }
                case 3:
                    let change = Int.random(in: -5...5, using: &generator)
                    if (try? stock.adjust(by: change)) != nil { stocked += change }
                default: _ = stock.expire(at: later)
                }
                #expect(stock.available >= 0 && stock.reserved >= 0 && stock.sold >= 0)
                #expect(stock.total == stocked)
                #expect(stock.reserved == stock.reservations.values.reduce(0) { $0 + $1.quantity })
            }
        }
    }
}

@Suite struct ShipmentStatusTests {
    @Test(arguments: [
        (ShipmentStatus.created, ShipmentStatus.assigned, true), (.assigned, .pickedUp, true), (.pickedUp, .inTransit, true),
        (.inTransit, .delivered, true), (.inTransit, .exception, true), (.exception, .inTransit, true), (.assigned, .cancelled, true),
        (.created, .delivered, false), (.delivered, .inTransit, false), (.pickedUp, .cancelled, false), (.cancelled, .assigned, false),
        (.inTransit, .pickedUp, false),
    ])
    func transitions(from: ShipmentStatus, to: ShipmentStatus, allowed: Bool) {
        #expect(from.canMove(to: to) == allowed, "\(from) → \(to)")
    }

    @Test func terminalStatesGoNowhere() {
        for status in ShipmentStatus.allCases where status.isTerminal {
            #expect(ShipmentStatus.allCases.allSatisfy { !status.canMove(to: $0) })
        }
    }
}
