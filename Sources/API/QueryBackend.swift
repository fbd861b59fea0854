import Commerce
import Contracts
import Foundation
import JSONCodec
import Postgres
import Projections
import Redis
import Synchronization

/// What the query routes read: the read models in PostgreSQL, Redis in front of the hot ones, and the
/// rate card. Each connection serves one request at a time on its own thread, so requests are spread
/// over a ring of them.
public final class QueryBackend: Sendable {
    let databases: ConnectionRing<PostgresConnection>
    let caches: ConnectionRing<RedisConnection>?
    public let carrierRules: CarrierRules

    public init(databases: [PostgresConnection], caches: [RedisConnection], carrierRules: CarrierRules = .standard) {
        self.databases = ConnectionRing(databases)
        self.caches = caches.isEmpty ? nil : ConnectionRing(caches)
        self.carrierRules = carrierRules
    }

    public func queries() -> ReadModelQueries { ReadModelQueries(database: databases.next()) }

    func cached() -> CachedQueries? {
        caches.map { CachedQueries(queries: queries(), cache: ReadCache(redis: $0.next())) }
    }

    func product(_ query: GetProduct) async throws -> ProductView? {
        if let cached = cached() { return try await cached.product(query) }
        return try await queries().product(query)
    }

    func cartTotal(_ query: GetCartTotal) async throws -> CartTotals? {
        if let cached = cached() { return try await cached.cartTotal(query) }
        return try await queries().cartTotal(query)
    }

    // MARK: - Ownership: another customer's resource is not found, so that ids reveal nothing

    func owned<View>(_ view: View?, by principal: Principal, owner: (View) -> String) throws(Problem) -> View? {
        guard let view else { return nil }
        guard principal.mayAct(for: owner(view)) else { throw Self.hidden }
        return view
    }

    func requireOrder(_ orderId: String, ownedBy principal: Principal) async throws {
        try await require(principal) { try await self.queries().orderOwner(orderId) }
    }

    func requireCart(_ cartId: String, ownedBy principal: Principal) async throws {
        try await require(principal) { try await self.queries().cartOwner(cartId) }
    }

    func requireShipment(_ shipmentId: String, ownedBy principal: Principal) async throws {
        try await require(principal) { try await self.queries().shipmentOwner(shipmentId) }
    }

    private func require(_ principal: Principal, owner: () async throws -> String?) async throws {
        if principal.isSystem { return }
        guard let owner = try await owner(), principal.mayAct(for: owner) else { throw Self.hidden }
    }

    /// One answer for "missing" and "not yours", so that ids cannot be probed.
    static let hidden = Problem.notFound("no such resource")
}

/// Round-robin over a fixed set of connections.
final class ConnectionRing<Connection: Sendable>: Sendable {
    private let connections: [Connection]
    private let counter = Atomic<Int>(0)

    init(_ connections: [Connection]) {
        precondition(!connections.isEmpty, "a ring needs at least one connection")
        self.connections = connections
    }

    func next() -> Connection {
        let index = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return connections[((index % connections.count) + connections.count) % connections.count]
    }
}

extension QueryRoute {
    /// A query route whose answer is `View`, or 404 when `answer` finds nothing.
    static func make<Query: Contract, View: Encodable & Sendable>(
        _ query: Query.Type,
        path: [String: String] = [:],
        sources: [String],
        _ answer: @escaping @Sendable (QueryBackend, Query, Principal) async throws -> View?
    ) -> QueryRoute {
        QueryRoute(message: query, pathFields: path, sources: sources) { backend, bytes, principal in
            let decoded = try Query.decode(bytes)
            guard let view = try await answer(backend, decoded, principal) else {
                throw QueryBackend.hidden
            }
            return try SoukJSON.encode(view)
        }
    }
}
