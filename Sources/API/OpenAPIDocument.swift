import Contracts
import Foundation

/// The OpenAPI 3.1 document of `APIRoutes.operations`, served at `/openapi.json` and checked in as
/// `Docs/openapi.json` (`souk openapi --output Docs/openapi.json`). Request bodies and query parameters
/// use the contracts' own JSON Schemas, so the document, the topics' schemas and the validation agree.
public enum OpenAPIDocument {
    static let referencePrefix = "#/components/schemas/"

    public static func document() -> [String: Any] {
        var definitions: [String: Any] = [:]
        var paths: [String: [String: Any]] = [:]
        for operation in APIRoutes.operations {
            paths[operation.openAPIPath, default: [:]][operation.method.rawValue.lowercased()] = describe(operation, &definitions)
        }
        definitions["Problem"] = problemSchema
        definitions["AcceptedCommand"] = acceptedSchema
        definitions["CommandOutcome"] = outcomeSchema
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Souk API",
                "version": "1",
                "description": """
                    Commands in, queries out. A write is validated against its command's JSON Schema and written as one \
                    command record to its Kafka topic; the answer is 202 with the command id, whose outcome \
                    GET /api/commands/{id} tells. Reads come from the read models; Souk-Read-Position and Souk-Read-Lag \
                    say how far those have got. Errors are RFC 9457 problem documents.
                    """,
            ],
            "paths": paths,
            "components": [
                "schemas": definitions,
                "securitySchemes": [
                    "apiKey": ["type": "apiKey", "in": "header", "name": "X-API-Key", "description": "Upstream systems and operators"],
                    "bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "End users: `sub` is the customer id"],
                ],
            ],
        ]
    }

    public static func json() throws -> [UInt8] {
        Array(try stableJSON(document()).utf8)
    }

    static func describe(_ operation: APIOperation, _ definitions: inout [String: Any]) -> [String: Any] {
        var result: [String: Any] = ["operationId": operation.operationID, "summary": operation.summary, "tags": [operation.tag]]
        var parameters: [[String: Any]] = operation.pathParameters.map { name in
            ["name": name, "in": "path", "required": true, "schema": Schema.id().json(definitions: &definitions, referencePrefix: referencePrefix)]
        }
        switch operation.access {
        case .open: break
        case .system: result["security"] = [["apiKey": [String]()]]
        default: result["security"] = [["apiKey": [String]()], ["bearer": [String]()]]
        }
        var responses: [String: Any] = [:]
        switch operation.action {
        case .command(let route):
            parameters.append([
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "The same key with the same request returns the same command id and writes nothing new; with another request: 409",
                "schema": ["type": "string", "minLength": 1, "maxLength": 255],
            ])
            result["requestBody"] = [
                "required": operation.method != .delete,
                "content": ["application/json": ["schema": route.bodySchema.json(definitions: &definitions, referencePrefix: referencePrefix)]],
            ]
            result["description"] = "Writes \(route.message.typeName) to \(route.topic), keyed by \(route.keyField). \(route.message.summary)"
            responses["202"] = [
                "description": "Accepted: the command is on its topic",
                "headers": ["Location": ["description": "Where the outcome is", "schema": ["type": "string"]]],
                "content": ["application/json": ["schema": ["$ref": referencePrefix + "AcceptedCommand"]]],
            ]
            for code in ["400", "401", "403", "409", "413", "415", "422", "503"] { responses[code] = problem }
        case .query(let route):
            for property in route.queryParameters {
                var parameter: [String: Any] = [
                    "name": property.name, "in": "query", "required": property.required,
                    "schema": property.schema.json(definitions: &definitions, referencePrefix: referencePrefix),
                ]
                if let description = property.description { parameter["description"] = description }
                parameters.append(parameter)
            }
            result["description"] = route.message.summary
            var headers: [String: Any] = [:]
            if !route.sources.isEmpty {
                headers = [
                    ReadModelFreshness.positionHeader: ["description": "Per source topic, the next offset of each partition the read model reflects", "schema": ["type": "string"]],
                    ReadModelFreshness.lagHeader: ["description": "Committed events not yet reflected (0: up to date)", "schema": ["type": "string"]],
                ]
            }
            responses["200"] = ["description": "The answer", "headers": headers, "content": ["application/json": ["schema": ["type": "object"]]]]
            for code in ["400", "401", "403", "404", "422", "503"] { responses[code] = problem }
        case .builtin:
            if operation.operationID == "getCommandOutcome" {
                parameters.append([
                    "name": "wait", "in": "query", "required": false, "description": "How long to wait for the outcome, e.g. 5s (at most 30s)",
                    "schema": ["type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s)?$"],
                ])
                responses["200"] = ["description": "The outcome", "content": ["application/json": ["schema": ["$ref": referencePrefix + "CommandOutcome"]]]]
                for code in ["400", "401", "503"] { responses[code] = problem }
            } else {
                responses["200"] = ["description": operation.summary]
                if ["live", "ready"].contains(operation.operationID) { responses["503"] = ["description": "Not live or not ready"] }
            }
        }
        if !parameters.isEmpty { result["parameters"] = parameters }
        result["responses"] = responses
        return result
    }

    static var problem: [String: Any] { [
        "description": "A problem document (RFC 9457)",
        "content": ["application/problem+json": ["schema": ["$ref": referencePrefix + "Problem"]]],
    ] }

    static var problemSchema: [String: Any] { [
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": [
            "type": ["type": "string", "format": "uri"], "title": ["type": "string"], "status": ["type": "integer"], "detail": ["type": "string"],
            "instance": ["type": "string"], "field": ["type": "string", "description": "JSON pointer of the failing field"],
            "errors": ["type": "array", "items": ["type": "object", "properties": ["field": ["type": "string"], "message": ["type": "string"]]]],
        ],
    ] }

    static var acceptedSchema: [String: Any] { [
        "type": "object",
        "required": ["commandId", "type", "topic", "key", "partition", "offset", "status", "outcome"],
        "properties": [
            "commandId": ["type": "string"], "type": ["type": "string"], "topic": ["type": "string"], "key": ["type": "string"],
            "partition": ["type": "integer"], "offset": ["type": "integer"], "status": ["type": "string", "enum": ["accepted"]],
            "outcome": ["type": "string", "description": "GET this for the outcome"],
        ],
    ] }

    static var outcomeSchema: [String: Any] { [
        "type": "object",
        "required": ["commandId", "status"],
        "properties": [
            "commandId": ["type": "string"], "status": ["type": "string", "enum": ["applied", "rejected", "pending"]], "eventType": ["type": "string"],
            "aggregateId": ["type": "string"], "reason": ["type": "string"], "field": ["type": "string"],
        ],
    ] }
}
