import Foundation
import Timestamps

/// One way a document fails its schema: where (a JSON pointer) and why.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    public var pointer: String
    public var message: String

    public init(pointer: String, message: String) {
        self.pointer = pointer
        self.message = message
    }

    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

extension Schema {
    /// Validates parsed JSON. Empty: valid.
    public func validate(_ value: JSONValue, at pointer: String = "") -> [SchemaViolation] {
        func violation(_ message: String) -> [SchemaViolation] { [SchemaViolation(pointer: pointer, message: message)] }
        switch (self, value) {
        case (.reference(_, let schema), _):
            return schema.validate(value, at: pointer)
        case (.object(let properties, let additional), .object(let object)):
            var violations: [SchemaViolation] = []
            for property in properties {
                let child = pointer + "/" + property.name
                if let present = object[property.name], present != .null {
                    violations += property.schema.validate(present, at: child)
                } else if property.required {
                    violations.append(SchemaViolation(pointer: child, message: "is required"))
                }
            }
            if !additional {
                let known = Set(properties.map(\.name))
                for key in object.keys.sorted() where !known.contains(key) {
                    violations.append(SchemaViolation(pointer: pointer + "/" + key, message: "is not allowed"))
                }
            }
            return violations
        case (.object, _), (.dictionary, _):
            if case .dictionary(let values) = self, case .object(let object) = value {
                return object.keys.sorted().flatMap { values.validate(object[$0]!, at: "\(pointer)/\($0)") }
            }
            return violation("must be an object")
        case (.string(let rules), .string(let string)):
            if string.unicodeScalars.contains(where: Schema.isControlCharacter) {
                return violation("must not contain control characters (U+0000 to U+001F other than tab, line feed and carriage return, or U+007F)")
            }
            if let minimum = rules.minLength, string.count < minimum { return violation("must have at least \(minimum) characters") }
            if let maximum = rules.maxLength, string.count > maximum { return violation("must have at most \(maximum) characters") }
            if let pattern = rules.pattern, string.range(of: pattern, options: .regularExpression) == nil {
                return violation("must match \(pattern)")
            }
            if rules.format == "date-time", !RFC3339.isValid(string) { return violation("must be an RFC 3339 date-time") }
            if let allowed = rules.allowed, !allowed.contains(string) { return violation("must be one of \(allowed.joined(separator: ", "))") }
            return []
        case (.string, _):
            return violation("must be a string")
        case (.integer(let minimum, let maximum), .integer(let integer)):
            if let minimum, integer < minimum { return violation("must be at least \(minimum)") }
            if let maximum, integer > maximum { return violation("must be at most \(maximum)") }
            return []
        case (.integer, _):
            return violation("must be an integer")
        case (.boolean, .bool):
            return []
        case (.boolean, _):
            return violation("must be true or false")
        case (.array(let items, let minItems, let maxItems), .array(let array)):
            if let minItems, array.count < minItems { return violation("must have at least \(minItems) items") }
            if let maxItems, array.count > maxItems { return violation("must have at most \(maxItems) items") }
            return array.enumerated().flatMap { items.validate($0.element, at: "\(pointer)/\($0.offset)") }
        case (.array, _):
            return violation("must be an array")
        }
    }

    /// Parses `bytes` as JSON and validates it.
    public func validate(json bytes: [UInt8]) -> [SchemaViolation] {
        guard let value = try? JSONValue.parse(bytes) else {
            return [SchemaViolation(pointer: "", message: "is not valid JSON")]
        }
        return validate(value)
    }
}

enum RFC3339 {
    static func isValid(_ string: String) -> Bool {
        Date(rfc3339: string) != nil
    }
}
