/// A JSON Schema (draft 2020-12) subset: what Souk's contracts need, both to publish the schemas
/// under `topics/schemas/` and to validate messages and requests against them.
public indirect enum Schema: Sendable, Equatable {
    case object([Property], additionalProperties: Bool = false)
    case string(StringRules = StringRules())
    case integer(minimum: Int? = nil, maximum: Int? = nil)
    case boolean
    case array(Schema, minItems: Int? = nil, maxItems: Int? = nil)
    /// A map with string keys.
    case dictionary(Schema)
    /// A named definition under `$defs`, referenced as `#/$defs/NAME`.
    case reference(String, Schema)

    public struct Property: Sendable, Equatable {
        public var name: String
        public var schema: Schema
        public var required: Bool
        public var description: String?

        public init(_ name: String, _ schema: Schema, required: Bool = true, description: String? = nil) {
            self.name = name
            self.schema = schema
            self.required = required
            self.description = description
        }
    }

    public struct StringRules: Sendable, Equatable {
        public var minLength: Int?
        public var maxLength: Int?
        public var pattern: String?
        public var format: String?
        public var allowed: [String]?

        public init(minLength: Int? = nil, maxLength: Int? = nil, pattern: String? = nil, format: String? = nil, allowed: [String]? = nil) {
            self.minLength = minLength
            self.maxLength = maxLength
            self.pattern = pattern
            self.format = format
            self.allowed = allowed
        }
    }
}

// MARK: - Building blocks shared by the contexts

extension Schema {
    /// No string of any message holds a C0 control character other than tab, line feed and carriage
    /// return, nor DEL: a NUL is refused by PostgreSQL, and the others forge lines in logs and mails.
    static func isControlCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: false
        case 0x00...0x1F, 0x7F: true
        default: false
        }
    }

    /// The same rule as a JSON Schema pattern, for the published schemas.
    static let noControlCharactersPattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$"

    public static func id(_ description: String = "identifier") -> Schema {
        .string(StringRules(minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:-]+$"))
    }

    public static func text(max: Int = 1000, min: Int = 0) -> Schema { .string(StringRules(minLength: min, maxLength: max)) }

    public static var timestamp: Schema { .string(StringRules(format: "date-time")) }

    public static func oneOf(_ values: [String]) -> Schema { .string(StringRules(allowed: values)) }

    /// Integer minor units of an ISO 4217 currency, never a float.
    public static var money: Schema {
        .reference(
            "Money",
            .object([
                Property(
                    "amountMinor", .integer(minimum: -Money.maxAmountMinor, maximum: Money.maxAmountMinor),
                    description: "amount in minor units (cents), within ±10^15; each message's rules say when it may be negative"
                ),
                Property("currency", .string(StringRules(pattern: "^[A-Z]{3}$")), description: "ISO 4217 code"),
            ])
        )
    }

    /// A signed amount (a price difference or a discount shown negative is never needed: kept positive).
    public static var address: Schema {
        .reference(
            "Address",
            .object([
                Property("addressId", .id()),
                Property("recipient", .text(max: 200, min: 1)),
                Property("line1", .text(max: 200, min: 1)),
                Property("line2", .text(max: 200), required: false),
                Property("city", .text(max: 100, min: 1)),
                Property("region", .text(max: 100), required: false),
                Property("postalCode", .text(max: 20, min: 1)),
                Property("country", .string(StringRules(pattern: "^[A-Z]{2}$")), description: "ISO 3166-1 alpha-2"),
            ])
        )
    }
}
