import Contracts
import Foundation
import Postgres
import Projections
import Streams
import Synchronization
import Testing
import TestSupport

/// `souk rebuild`: a read model rebuilt from the archive equals the live one, and readers switch to it.
@Suite(.serialized) struct RebuildTests {
    let stack: TestStack
    init() throws { stack = try TestStack.load() }

    @Test func aRebuiltTableEqualsTheLiveOneAndReplacesIt() async throws {
        let database = try await PostgresConnection.connect(try stack.environment.require("POSTGRES_URL"))
        try await ReadModelSchema.migrate(database)
        let run = uniqueName("rebuild")
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let line = OrderLine(productId: "p", sku: "S", quantity: 2, unitPrice: Money(10_000, "VND"))
        var events: [ProjectedEvent] = []
        func add<Event: TopicMessage>(_ event: Event, topic: String = "\(run).order.events", offset: Int64? = nil) throws {
            events.append(ProjectedEvent(
                id: "\(run)-\(events.count)", type: Event.typeName, topic: topic, partition: 0, offset: offset ?? Int64(events.count), key: event.key,
                correlationID: nil, causationID: nil, occurredAt: at, payload: try event.encoded()
            ))
        }
        for index in 0..<30 {
            let order = "\(run)-o\(index)"
            try add(OrderCreated(orderId: order, customerId: "\(run)-c", lines: [line], total: Money(20_000, "VND"), shippingAddress: .example, createdAt: at))
            if index % 3 == 0 { try add(OrderStatusUpdated(orderId: order, previousStatus: "reserving", status: "failed", reason: "out of stock", updatedAt: at + 1)) }
            if index % 3 == 1 { try add(OrderCancelled(orderId: order, reason: "changed my mind", cancelledAt: at + 2)) }
            if index % 3 == 2 { try add(OrderFulfilled(orderId: order, shipmentId: "ship-\(order)", fulfilledAt: at + 3)) }
        }
        // A topic deleted and created again starts at offset 0 anew: ten orders archived at one position,
        // across the replay's batches of 7, must all come back.
        for index in 0..<10 {
            try add(OrderCreated(orderId: "\(run)-r\(index)", customerId: "\(run)-c", lines: [line], total: Money(20_000, "VND"), shippingAddress: .example, createdAt: at), topic: "\(run).recreated", offset: 0)
        }
        let archived = events
        try await database.transaction { session in for event in archived { try EventProjection.apply(event, in: session) } }

        let columns = "order_id, customer_id, status, reason, total_minor, currency, lines::text, shipping_address::text, shipment_id, created_at, updated_at"
        let live = try await database.query("SELECT \(columns) FROM public.orders WHERE order_id LIKE $1 ORDER BY order_id", ["\(run)-%"])
        let progress = ProgressLog()
        let result = try await ProjectionRebuild(database: database).run("orders", batchSize: 7) { progress.append($0.applied) }
        let reported = progress.values
        #expect(reported.count >= 2 && reported == reported.sorted(), "progress is reported as the replay goes")
        #expect(result.rows["orders"]?[0] == result.rows["orders"]?[1])
        let rebuilt = try await database.query("SELECT \(columns) FROM public.orders WHERE order_id LIKE $1 ORDER BY order_id", ["\(run)-%"])
        let old = try await database.query("SELECT \(columns) FROM \(result.oldSchema).orders WHERE order_id LIKE $1 ORDER BY order_id", ["\(run)-%"])
        #expect(rebuilt.count == 40 && rebuilt.rows == live.rows && old.rows == live.rows)
        #expect(Set(rebuilt.rows.compactMap { $0[2] }) == ["failed", "cancelled", "fulfilled", "reserving"])
        // Readers now use the new table: the queries answer from it.
        let view = try await ReadModelQueries(database: database).order(GetOrder(orderId: "\(run)-o2"))
        #expect(view?.status == "fulfilled" && view?.shipmentId == "ship-\(run)-o2")
        #expect(try await ProjectionRebuild(database: database).oldSchemas().contains(result.oldSchema))
        try await ProjectionRebuild(database: database).drop(result.oldSchema)
        #expect(try await !ProjectionRebuild(database: database).oldSchemas().contains(result.oldSchema))
        await #expect(throws: ProjectionRebuild.Failure.self) { try await ProjectionRebuild(database: database).run("nonsense") }
    }
}

final class ProgressLog: Sendable {
    private let log = Mutex<[Int]>([])
    func append(_ value: Int) { log.withLock { $0.append(value) } }
    var values: [Int] { log.withLock { $0 } }
}
