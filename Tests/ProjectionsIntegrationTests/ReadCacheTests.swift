import Contracts
import Foundation
import Kafka
import Postgres
import Projections
import Redis
import Streams
import Testing
import TestSupport

@Suite(.serialized) struct ReadCacheTests {
    let stack: TestStack

    init() throws { stack = try TestStack.load() }

    @Test func hotReadsAreCachedAndTheProjectorInvalidatesThem() async throws {
        let postgresURL = try stack.environment.require("POSTGRES_URL")
        let redisURL = try stack.environment.require("REDIS_URL")
        let topic = try await stack.freshTopic("cache-events", partitions: 1)
        let run = uniqueName("cache")
        let product = "\(run)-p"
        let producer = try KafkaProducer(configuration: stack.producerConfiguration(), logger: stack.logger)
        func send<Message: TopicMessage>(_ message: Message, id: String) async throws {
            _ = try await producer.send(
                KafkaProducerMessage(
                    topic: topic, key: Array(message.key.utf8), value: try message.encoded(),
                    headers: [KafkaHeader(key: CloudEventHeader.id, string: id), KafkaHeader(key: CloudEventHeader.type, string: Message.typeName)]
                )
            )
        }
        let projector = ProjectorWorker(
            name: run, topics: [topic], bootstrapServers: stack.bootstrapServers, timings: stack.timings, postgresURL: postgresURL,
            redisURL: redisURL, leaveGroupOnClose: false, logger: stack.logger
        )
        let task = Task { try await projector.run() }
        defer { task.cancel() }

        let database = try await PostgresConnection.connect(postgresURL)
        try await ReadModelSchema.migrate(database)
        let redis = try await RedisConnection.connect(redisURL)
        let cached = CachedQueries(queries: ReadModelQueries(database: database), cache: ReadCache(redis: redis))

        try await send(ProductCreated(productId: product, sku: "\(run)-s", name: "Tea", price: Money(100, "VND"), attributes: [:], createdAt: Date()), id: "\(run)-1")
        try await eventually("the product is readable", timeout: .seconds(60)) { try await cached.product(GetProduct(productId: product)) != nil }
        #expect(try await redis.get(ReadCache.productKey(product)) != nil, "the read filled the cache")
        #expect(try await cached.product(GetProduct(productId: product))?.price == Money(100, "VND"))

        try await send(PriceChanged(productId: product, sku: "\(run)-s", oldPrice: Money(100, "VND"), newPrice: Money(80, "VND"), changedAt: Date()), id: "\(run)-2")
        try await eventually("the projector invalidated the entry", timeout: .seconds(60)) {
            try await redis.get(ReadCache.productKey(product)) == nil
        }
        #expect(try await cached.product(GetProduct(productId: product))?.price == Money(80, "VND"))
        try await producer.close()
    }
}
