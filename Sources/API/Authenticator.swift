import Foundation
import HTTPTypes
import JWTKit

/// Turns a request's credentials into a `Principal`: an API key (`X-API-Key: …` or
/// `Authorization: ApiKey …`) for upstream systems, a bearer JWT whose `sub` is a customer id for
/// end users, nothing for anonymous reads. Credentials that are present but wrong are a 401, never
/// silently anonymous.
public struct Authenticator: Sendable {
    let apiKeys: [APIConfiguration.APIKey]
    let keys: JWTKeyCollection?
    let settings: APIConfiguration.JWTSettings

    public init(apiKeys: [APIConfiguration.APIKey], jwt: APIConfiguration.JWTSettings) async throws {
        self.apiKeys = apiKeys
        self.settings = jwt
        guard jwt.isEnabled else {
            self.keys = nil
            return
        }
        let keys = JWTKeyCollection()
        if let secret = jwt.hmacSecret {
            guard secret.utf8.count >= 32 else { throw APIConfigurationError("the JWT HS256 secret must have at least 32 bytes") }
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        }
        if let jwks = jwt.jwks {
            do { try await keys.add(jwksJSON: jwks) } catch { throw APIConfigurationError("the JWKS cannot be read: \(error)") }
        }
        self.keys = keys
    }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    public func principal(for headers: HTTPFields) async throws(Problem) -> Principal {
        if let key = headers[Self.apiKeyHeader] { return try system(key) }
        guard let authorization = headers[.authorization] else { return .anonymous }
        let parts = authorization.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw .unauthorized("the Authorization header must be 'Bearer <token>' or 'ApiKey <key>'") }
        switch parts[0].lowercased() {
        case "apikey": return try system(parts[1])
        case "bearer": return try await customer(token: parts[1])
        default: throw .unauthorized("unsupported authorization scheme '\(parts[0])': use Bearer or ApiKey")
        }
    }

    private func system(_ presented: String) throws(Problem) -> Principal {
        // Every key is compared in full, so the time taken says nothing about which one nearly matched.
        var match: String?
        for key in apiKeys where Self.constantTimeEqual(key.secret, presented) { match = key.name }
        guard let match else { throw .unauthorized("unknown API key") }
        return .system(match)
    }

    private func customer(token: String) async throws(Problem) -> Principal {
        guard let keys else { throw .unauthorized("bearer tokens are not accepted: no JWT keys are configured") }
        let claims: CustomerClaims
        do {
            claims = try await keys.verify(token, as: CustomerClaims.self)
        } catch {
            throw .unauthorized("the bearer token is not valid: \(Self.reason(error))")
        }
        if let issuer = settings.issuer, claims.iss?.value != issuer { throw .unauthorized("the token's issuer is not \(issuer)") }
        if let audience = settings.audience {
            do { try claims.aud?.verifyIntendedAudience(includes: audience) } catch { throw .unauthorized("the token is not meant for \(audience)") }
            if claims.aud == nil { throw .unauthorized("the token names no audience") }
        }
        let subject = claims.sub.value
        guard !subject.isEmpty, subject.utf8.count <= 128, subject.allSatisfy({ $0.isLetter || $0.isNumber || "._:-".contains($0) }) else {
            throw .unauthorized("the token's subject is not a customer id")
        }
        return .customer(subject)
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? JWTError {
            switch error.errorType {
            case .claimVerificationFailure: return "expired or not yet valid"
            case .signatureVerificationFailed: return "bad signature"
            default: return "\(error.errorType)"
            }
        }
        return "malformed"
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}

/// The claims Souk reads from an end user's token.
public struct CustomerClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var iss: IssuerClaim?
    public var aud: AudienceClaim?

    public init(sub: String, expires: Date, issuer: String? = nil, audience: String? = nil) {
        self.sub = SubjectClaim(value: sub)
        self.exp = ExpirationClaim(value: expires)
        self.iss = issuer.map { IssuerClaim(value: $0) }
        self.aud = audience.map { AudienceClaim(value: [$0]) }
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
