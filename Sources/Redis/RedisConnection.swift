import CHiredis
import Dispatch
import Foundation

/// A reply from Redis.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case array([RedisReply])
    case null
    case status(String)

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

public struct RedisError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Redis: \(message)" }
}

/// One hiredis connection with a thread of its own: every command runs on the connection's serial
/// queue, never on Swift's cooperative pool.
public final class RedisConnection: @unchecked Sendable {
    // @unchecked: the context is only touched on `queue`.
    private let context: UnsafeMutablePointer<redisContext>
    private let queue = DispatchQueue(label: "souk.redis")

    private init(context: UnsafeMutablePointer<redisContext>) {
        self.context = context
    }

    deinit {
        redisFree(context)
    }

    /// Connects with a `redis://host:port` URL.
    public static func connect(_ url: String, timeout: Duration = .seconds(5)) async throws -> RedisConnection {
        guard let components = URLComponents(string: url), let host = components.host else { throw RedisError("not a redis:// URL: \(url)") }
        let port = components.port ?? 6379
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "souk.redis.connect").async {
                let seconds = timeout.components.seconds
                let tv = timeval(tv_sec: Int(seconds), tv_usec: 0)
                guard let context = redisConnectWithTimeout(host, Int32(port), tv) else {
                    return continuation.resume(throwing: RedisError("out of memory"))
                }
                if context.pointee.err != 0 {
                    let message = withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    redisFree(context)
                    return continuation.resume(throwing: RedisError("cannot connect to \(host):\(port): \(message)"))
                }
                continuation.resume(returning: RedisConnection(context: context))
            }
        }
    }

    /// Runs one command, e.g. `["SET", "key", "value", "EX", "60"]`.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result { try self.run(arguments) })
            }
        }
    }

    private func run(_ arguments: [String]) throws -> RedisReply {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let lengths = arguments.map { $0.utf8.count }
        let pointer = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                redisCommandArgv(context, Int32(arguments.count), UnsafeMutablePointer(mutating: argv.baseAddress), argvlen.baseAddress)
            }
        }
        guard let pointer else {
            let message = withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw RedisError(message)
        }
        let reply = pointer.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(pointer) }
        return try Self.convert(reply.pointee)
    }

    private static func convert(_ reply: redisReply) throws -> RedisReply {
        func text() -> String { reply.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: reply.len), as: UTF8.self) } ?? "" }
        switch reply.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_INTEGER: return .integer(Int(reply.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY: return .array(try (0..<reply.elements).map { try convert(reply.element[$0]!.pointee) })
        default: throw RedisError(text())
        }
    }

    public func get(_ key: String) async throws -> String? { try await command(["GET", key]).string }

    public func set(_ key: String, _ value: String, expiry: Duration) async throws {
        try await command(["SET", key, value, "EX", String(max(1, expiry.components.seconds))])
    }

    @discardableResult
    public func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        if case .integer(let count) = try await command(["DEL"] + keys) { return count }
        return 0
    }
}
