import Contracts
import Foundation
import JSONCodec
import Redis
import Streams

/// Redis in front of the hot reads (a product by id, a cart's totals). Entries expire after `ttl`,
/// and the projector deletes an entry when it changes the row behind it.
public struct ReadCache: Sendable {
    let redis: RedisConnection
    public let ttl: Duration

    public init(redis: RedisConnection, ttl: Duration = .seconds(60)) {
        self.redis = redis
        self.ttl = ttl
    }

    public static func productKey(_ productId: String) -> String { "souk:product:\(productId)" }
    public static func cartTotalsKey(_ cartId: String) -> String { "souk:cart-totals:\(cartId)" }

    /// The cached value, or `load`'s result cached for next time (a miss stays a miss: nothing cached).
    public func value<Value: Codable & Sendable>(_ key: String, load: () async throws -> Value?) async throws -> Value? {
        if let cached = try? await redis.get(key), let value = try? SoukJSON.decode(Value.self, from: cached.utf8) {
            return value
        }
        guard let value = try await load() else { return nil }
        let text = try SoukJSON.text(value)
        // A cache that cannot be written is only slower: the read still succeeds.
        try? await redis.set(key, text, expiry: ttl)
        return value
    }

    public func invalidate(_ keys: [String]) async throws {
        try await redis.delete(keys)
    }

    /// The cache entries an event makes stale.
    public static func keys(invalidatedBy event: ProjectedEvent) -> [String] {
        switch event.type {
        case ProductCreated.typeName, ProductUpdated.typeName, PriceChanged.typeName, ProductDeleted.typeName:
            event.key.map { [productKey($0)] } ?? []
        case let type where EventProjection.cartEvents.contains(type):
            event.key.map { [cartTotalsKey($0)] } ?? []
        default:
            []
        }
    }
}

/// The cached reads: the same answers as `ReadModelQueries`, through Redis.
public struct CachedQueries: Sendable {
    public let queries: ReadModelQueries
    public let cache: ReadCache

    public init(queries: ReadModelQueries, cache: ReadCache) {
        self.queries = queries
        self.cache = cache
    }

    public func product(_ query: GetProduct) async throws -> ProductView? {
        try await cache.value(ReadCache.productKey(query.productId)) { try await queries.product(query) }
    }

    public func cartTotal(_ query: GetCartTotal) async throws -> CartTotals? {
        try await cache.value(ReadCache.cartTotalsKey(query.cartId)) { try await queries.cartTotal(query) }
    }
}
