import Foundation
import JSONCodec
import Timestamps

/// The bounded contexts of `architecture.md`, plus inventory (the product domain's stock, run by its own role).
public enum BoundedContext: String, Sendable, CaseIterable, Codable {
    case product, inventory, order, customer, cart, payment, shipping
}

public enum MessageKind: String, Sendable, Codable {
    case command, event, query
}

/// A message of Souk's public contract: a Swift type, a JSON Schema, and an example.
public protocol Contract: Codable, Sendable, Equatable {
    static var context: BoundedContext { get }
    static var name: String { get }
    static var kind: MessageKind { get }
    static var version: Int { get }
    static var summary: String { get }
    static var schema: Schema { get }
    static var example: Self { get }
    /// The CloudEvents `ce_type`, e.g. `souk.product.CreateProduct.v1`.
    static var typeName: String { get }
}

extension Contract {
    public static var version: Int { 1 }
    public static var typeName: String { "souk.\(context.rawValue).\(name).v\(version)" }

    public static func decode(_ bytes: [UInt8]) throws -> Self {
        try SoukJSON.decode(Self.self, from: bytes)
    }

    public func encoded() throws -> [UInt8] { try SoukJSON.encode(self) }
}

/// Commands and events travel on topics, keyed by the aggregate they concern.
public protocol TopicMessage: Contract {
    /// The record key: the aggregate id, which decides the partition.
    var key: String { get }
}
