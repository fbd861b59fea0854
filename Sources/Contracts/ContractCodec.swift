import Foundation

/// Decodes a message only after it passed its schema, so that what a role sees always obeys the contract.
public enum ContractCodec {
    public struct Violation: Error, CustomStringConvertible {
        public var typeName: String
        public var violations: [SchemaViolation]
        public var description: String {
            "does not match the schema of \(typeName): " + violations.map(\.description).joined(separator: "; ")
        }
    }

    public static func decode<Message: Contract>(_ type: Message.Type, _ bytes: [UInt8]) throws -> Message {
        let violations = Message.schema.validate(json: bytes)
        guard violations.isEmpty else { throw Violation(typeName: Message.typeName, violations: violations) }
        return try Message.decode(bytes)
    }
}
