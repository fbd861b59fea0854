import Contracts

/// One route of the API: its method and path, who may call it, and what it does. The router is built
/// from `APIRoutes.operations`, and so is `/openapi.json`: the two cannot drift apart.
public struct APIOperation: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        case get = "GET", post = "POST", put = "PUT", delete = "DELETE"
    }

    /// Who may call an operation.
    public enum Access: Sendable, Equatable {
        /// Anyone, without credentials.
        case open
        /// API keys only (upstream systems, operators).
        case system
        /// API keys, and customers acting for the customer named by this path parameter.
        case pathCustomer(String)
        /// API keys, and customers naming themselves in this body field (filled in when absent).
        case bodyCustomer(String)
        /// API keys, and customers on resources they own: a command's role checks the `souk_actor`
        /// header against the aggregate's owner; a query compares the owner of what it found.
        case owner
        /// Any authenticated caller.
        case authenticated
    }

    public enum Action: Sendable {
        case command(CommandRoute)
        case query(QueryRoute)
        /// Served by the API itself (outcomes, the OpenAPI document, health).
        case builtin
    }

    public var method: Method
    /// Hummingbird's form: `/api/products/:id`.
    public var path: String
    public var operationID: String
    public var summary: String
    public var tag: String
    public var access: Access
    public var action: Action

    /// The OpenAPI form of the path: `/api/products/{id}`.
    public var openAPIPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            .joined(separator: "/")
    }

    public var pathParameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
    }
}

/// A write route: the body (with path parameters merged in) becomes one command on its topic.
public struct CommandRoute: Sendable {
    public var message: any TopicMessage.Type
    public var topic: String
    /// The command field that keys the record (the topic's declared key).
    public var keyField: String
    /// Path parameter → the command field it fills.
    public var pathFields: [String: String]
    /// A field the API fills with an id derived from the command id when the body leaves it out.
    public var generatedID: GeneratedID?

    public struct GeneratedID: Sendable {
        public var field: String
        public var prefix: String
    }

    public init(_ message: any TopicMessage.Type, path pathFields: [String: String] = [:], generates generatedID: GeneratedID? = nil) {
        self.message = message
        let topic = TopicCatalog.topics.first { $0.kind == .commands && $0.messages.contains(message.typeName) }!
        self.topic = topic.name
        self.keyField = topic.key
        self.pathFields = pathFields
        self.generatedID = generatedID
    }

    /// The schema of the request body: the command's, less what the path supplies; a generated id is optional.
    public var bodySchema: Schema {
        guard case .object(let properties, let additional) = message.schema else { return message.schema }
        let fromPath = Set(pathFields.values)
        return .object(
            properties.filter { !fromPath.contains($0.name) }.map { property in
                var property = property
                if property.name == generatedID?.field { property.required = false }
                return property
            },
            additionalProperties: additional
        )
    }
}

/// A read route: path and query parameters become the query message, validated against its schema.
public struct QueryRoute: Sendable {
    public var message: any Contract.Type
    /// Path parameter → the query field it fills.
    public var pathFields: [String: String]
    /// The event topics whose projection answers it: their position and lag go in `Souk-Read-*` headers.
    public var sources: [String]
    let run: @Sendable (QueryBackend, [UInt8], Principal) async throws -> [UInt8]

    /// The query parameters: the query's fields that the path does not supply.
    public var queryParameters: [Schema.Property] {
        guard case .object(let properties, _) = message.schema else { return [] }
        let fromPath = Set(pathFields.values)
        return properties.filter { !fromPath.contains($0.name) }
    }
}

extension APIOperation.Access {
    /// Whether `principal` may call an operation with this access at all; what it owns is checked
    /// later (by the role for a command, by the query for a read).
    func authorize(_ principal: Principal, path: [String: String]) throws(Problem) {
        if self == .open { return }
        if principal == .anonymous { throw .unauthorized("this route needs an API key or a bearer token") }
        switch self {
        case .system:
            guard principal.isSystem else { throw .forbidden("this route is for upstream systems and operators (API keys) only") }
        case .pathCustomer(let parameter):
            guard principal.mayAct(for: path[parameter] ?? "") else { throw .forbidden("a customer may act only for itself") }
        case .open, .authenticated, .owner, .bodyCustomer:
            break
        }
    }
}
