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
    /// The `alg` a token's header may name: those of the configured keys, never what the token says.
    let algorithms: Set<String>

    public init(apiKeys: [APIConfiguration.APIKey], jwt: APIConfiguration.JWTSettings) async throws {
        self.apiKeys = apiKeys
        self.settings = jwt
        guard jwt.isEnabled else {
            self.keys = nil
            self.algorithms = []
            return
        }
        let keys = JWTKeyCollection()
        var algorithms: Set<String> = []
        if let secret = jwt.hmacSecret {
            guard secret.utf8.count >= 32 else { throw APIConfigurationError("the JWT HS256 secret must have at least 32 bytes") }
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            algorithms.insert("HS256")
        }
        if let jwks = jwt.jwks {
            do { try await keys.add(jwksJSON: jwks) } catch { throw APIConfigurationError("the JWKS cannot be read: \(error)") }
            algorithms.formUnion(Self.algorithms(inJWKS: jwks))
        }
        self.keys = keys
        self.algorithms = algorithms
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
        guard let algorithm = Self.headerAlgorithm(of: token), algorithms.contains(algorithm) else {
            throw .unauthorized("the bearer token is not valid: its algorithm must be one of \(algorithms.sorted().joined(separator: ", "))")
        }
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
        // ASCII only, as every id in the contracts: Swift compares strings by canonical equivalence, so a
        // look-alike (a Kelvin sign for a K) would otherwise act as another customer.
        guard !subject.isEmpty, subject.utf8.count <= 128, subject.utf8.allSatisfy(Self.isIDByte) else {
            throw .unauthorized("the token's subject is not a customer id")
        }
        return .customer(subject)
    }

    static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// The `alg` of a compact JWS's header, or `nil` when the header cannot be read.
    static func headerAlgorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }

    /// The algorithms a JWKS's keys name; a key without `alg` is taken for what its type signs with.
    static func algorithms(inJWKS jwks: String) -> Set<String> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jwks.utf8)) as? [String: Any], let keys = object["keys"] as? [[String: Any]] else {
            return []
        }
        return Set(keys.compactMap { key in
            if let alg = key["alg"] as? String { return alg }
            switch key["kty"] as? String {
            case "RSA": return "RS256"
            case "EC": return "ES256"
            case "OKP": return "EdDSA"
            default: return nil
            }
        })
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
    public var nbf: NotBeforeClaim?

    public init(sub: String, expires: Date, issuer: String? = nil, audience: String? = nil, notBefore: Date? = nil) {
        self.sub = SubjectClaim(value: sub)
        self.exp = ExpirationClaim(value: expires)
        self.nbf = notBefore.map { NotBeforeClaim(value: $0) }
        self.iss = issuer.map { IssuerClaim(value: $0) }
        self.aud = audience.map { AudienceClaim(value: [$0]) }
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}
