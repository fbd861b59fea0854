import Foundation

/// Everything the HTTP API is configured with. `App` reads it from the environment
/// (`APIConfiguration(environment:)`); secrets are never logged (see `redactedDescription`).
public struct APIConfiguration: Sendable {
    public struct APIKey: Sendable, Equatable {
        /// Who the key belongs to: logged, and written into commands as `system:<name>`.
        public var name: String
        public var secret: String

        public init(name: String, secret: String) {
            self.name = name
            self.secret = secret
        }
    }

    public struct JWTSettings: Sendable, Equatable {
        /// A shared secret for HS256 tokens.
        public var hmacSecret: String?
        /// A JSON Web Key Set (RS256, ES256, … public keys).
        public var jwks: String?
        /// When set, tokens must carry this `iss`.
        public var issuer: String?
        /// When set, tokens must name this `aud`.
        public var audience: String?

        public init(hmacSecret: String? = nil, jwks: String? = nil, issuer: String? = nil, audience: String? = nil) {
            self.hmacSecret = hmacSecret
            self.jwks = jwks
            self.issuer = issuer
            self.audience = audience
        }

        public var isEnabled: Bool { hmacSecret != nil || jwks != nil }
    }

    public var host: String
    public var port: Int
    /// Bodies above this are refused with 413, before they are read whole.
    public var maxBodyBytes: Int
    public var apiKeys: [APIKey]
    public var jwt: JWTSettings
    /// The longest `GET /api/commands/:id?wait=` may wait.
    public var maxOutcomeWait: Duration
    /// How many requests may wait for outcomes at once; more get 503.
    public var maxOutcomeWaiters: Int
    /// How many of those one caller (API key or customer) may hold; more get 429.
    public var maxOutcomeWaitersPerCaller: Int
    /// How long an `Idempotency-Key` is remembered.
    public var idempotencyRetention: Duration
    /// How often the read models' positions and lag are looked up for the `Souk-Read-*` headers.
    public var freshnessInterval: Duration
    /// PostgreSQL connections for queries and idempotency keys (each has a thread of its own).
    public var databaseConnections: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 8000,
        maxBodyBytes: Int = 64 * 1024,
        apiKeys: [APIKey] = [],
        jwt: JWTSettings = JWTSettings(),
        maxOutcomeWait: Duration = .seconds(30),
        maxOutcomeWaiters: Int = 256,
        maxOutcomeWaitersPerCaller: Int = 32,
        idempotencyRetention: Duration = .seconds(86_400),
        freshnessInterval: Duration = .seconds(2),
        databaseConnections: Int = 4
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.apiKeys = apiKeys
        self.jwt = jwt
        self.maxOutcomeWait = maxOutcomeWait
        self.maxOutcomeWaiters = maxOutcomeWaiters
        self.maxOutcomeWaitersPerCaller = maxOutcomeWaitersPerCaller
        self.idempotencyRetention = idempotencyRetention
        self.freshnessInterval = freshnessInterval
        self.databaseConnections = databaseConnections
    }

    /// `name=secret,name=secret`: the form of `SOUK_API_KEYS`.
    public static func parseAPIKeys(_ text: String) throws -> [APIKey] {
        try text.split(separator: ",").map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].count >= 16 else {
                throw APIConfigurationError("SOUK_API_KEYS entries are name=secret with a secret of at least 16 characters")
            }
            return APIKey(name: parts[0], secret: parts[1])
        }
    }

    /// The configuration without secrets, for logs.
    public var redactedDescription: String {
        "host=\(host) port=\(port) maxBodyBytes=\(maxBodyBytes) apiKeys=[\(apiKeys.map(\.name).joined(separator: ","))] "
            + "jwt=\(jwt.hmacSecret != nil ? "hs256 " : "")\(jwt.jwks != nil ? "jwks " : "")issuer=\(jwt.issuer ?? "-") audience=\(jwt.audience ?? "-")"
    }
}

public struct APIConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
