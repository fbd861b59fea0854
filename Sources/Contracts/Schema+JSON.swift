import Foundation

extension Schema {
    /// The schema as a JSON Schema document (draft 2020-12), with shared definitions under `$defs`.
    public func document(id: String, title: String, description: String) -> [String: Any] {
        var definitions: [String: Any] = [:]
        var document = json(definitions: &definitions)
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        document["$id"] = id
        document["title"] = title
        document["description"] = description
        if !definitions.isEmpty { document["$defs"] = definitions }
        return document
    }

    /// The schema as JSON Schema, its named definitions collected into `definitions` and referenced as
    /// `referencePrefix + name` (`#/$defs/` in a schema file, `#/components/schemas/` in OpenAPI).
    public func json(definitions: inout [String: Any], referencePrefix: String = "#/$defs/") -> [String: Any] {
        switch self {
        case .object(let properties, let additional):
            var rendered: [String: Any] = [:]
            for property in properties {
                var schema = property.schema.json(definitions: &definitions, referencePrefix: referencePrefix)
                if let description = property.description { schema["description"] = description }
                rendered[property.name] = schema
            }
            var result: [String: Any] = ["type": "object", "properties": rendered, "additionalProperties": additional]
            let required = properties.filter(\.required).map(\.name)
            if !required.isEmpty { result["required"] = required }
            return result
        case .string(let rules):
            var result: [String: Any] = ["type": "string"]
            result["minLength"] = rules.minLength
            result["maxLength"] = rules.maxLength
            // Every string refuses control characters (`Schema.controlCharacters`); a pattern of our
            // own already excludes them, a free text gets the rule written out.
            result["pattern"] = rules.pattern ?? (rules.format == nil && rules.allowed == nil ? Schema.noControlCharactersPattern : nil)
            result["format"] = rules.format
            result["enum"] = rules.allowed
            return result
        case .integer(let minimum, let maximum):
            var result: [String: Any] = ["type": "integer"]
            result["minimum"] = minimum
            result["maximum"] = maximum
            return result
        case .boolean:
            return ["type": "boolean"]
        case .array(let items, let minItems, let maxItems):
            var result: [String: Any] = ["type": "array", "items": items.json(definitions: &definitions, referencePrefix: referencePrefix)]
            result["minItems"] = minItems
            result["maxItems"] = maxItems
            return result
        case .dictionary(let values):
            return ["type": "object", "additionalProperties": values.json(definitions: &definitions, referencePrefix: referencePrefix)]
        case .reference(let name, let schema):
            if definitions[name] == nil {
                definitions[name] = [:]  // placeholder against recursion
                definitions[name] = schema.json(definitions: &definitions, referencePrefix: referencePrefix)
            }
            return ["$ref": referencePrefix + name]
        }
    }
}

/// Pretty, stable JSON for files that are checked in.
public func stableJSON(_ object: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self) + "\n"
}
