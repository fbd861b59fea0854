import API
import Foundation
import Logging

extension APIConfiguration {
    /// The API's configuration from `SOUK_API_*` and `SOUK_JWT_*`; secrets are read here and nowhere else.
    ///
    /// - `SOUK_API_HOST` (127.0.0.1: loopback; nginx or a pod's Service sets another), `SOUK_API_PORT` (8000), `SOUK_API_MAX_BODY_BYTES` (65536)
    /// - `SOUK_API_KEYS`: `name=secret,…` for upstream systems and operators
    /// - `SOUK_JWT_HS256_SECRET`, `SOUK_JWT_JWKS` (a JWKS document, or `@/path/to/jwks.json`),
    ///   `SOUK_JWT_ISSUER`, `SOUK_JWT_AUDIENCE`: end users' bearer tokens
    /// - `SOUK_API_MAX_WAITERS` (256), `SOUK_API_MAX_WAITERS_PER_CALLER` (32), `SOUK_API_DB_CONNECTIONS` (4), `SOUK_API_FRESHNESS_SECONDS` (2)
    public init(environment: SoukEnvironment, logger: Logger) throws {
        func int(_ key: String, _ fallback: Int) throws -> Int {
            guard let text = environment[key] else { return fallback }
            guard let value = Int(text), value > 0 else { throw SoukConfigurationError("\(key) must be a positive integer, got '\(text)'") }
            return value
        }
        var jwks = environment["SOUK_JWT_JWKS"]
        if let reference = jwks, reference.hasPrefix("@") {
            jwks = try String(contentsOfFile: String(reference.dropFirst()), encoding: .utf8)
        }
        self.init(
            host: environment["SOUK_API_HOST"] ?? "127.0.0.1",
            port: try int("SOUK_API_PORT", 8000),
            maxBodyBytes: try int("SOUK_API_MAX_BODY_BYTES", 64 * 1024),
            apiKeys: try environment["SOUK_API_KEYS"].map(APIConfiguration.parseAPIKeys) ?? [],
            jwt: JWTSettings(
                hmacSecret: environment["SOUK_JWT_HS256_SECRET"], jwks: jwks, issuer: environment["SOUK_JWT_ISSUER"],
                audience: environment["SOUK_JWT_AUDIENCE"]
            ),
            maxOutcomeWaiters: try int("SOUK_API_MAX_WAITERS", 256),
            maxOutcomeWaitersPerCaller: try int("SOUK_API_MAX_WAITERS_PER_CALLER", 32),
            freshnessInterval: .milliseconds(Int(try environment.seconds("SOUK_API_FRESHNESS_SECONDS", default: 2) * 1000)),
            databaseConnections: try int("SOUK_API_DB_CONNECTIONS", 4)
        )
        if apiKeys.isEmpty { logger.warning("SOUK_API_KEYS is not set: no upstream system or operator can write") }
        if !jwt.isEnabled { logger.warning("no SOUK_JWT_* keys: end users' bearer tokens are refused") }
    }
}
