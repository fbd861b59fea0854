import Foundation
import HTTPTypes
import JWTKit
import Testing

@testable import API

/// What the outside probe found about end users' tokens: a look-alike subject, `nbf`, the `alg`.
@Suite struct AuthenticatorTests {
    // Long enough for HS512 too (JWTKit asserts a key at least as long as the hash).
    let secret = String(repeating: "s3cr3t-", count: 10)

    func token(_ claims: CustomerClaims, digest: DigestAlgorithm = .sha256) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
        return try await keys.sign(claims)
    }

    func principal(_ token: String) async throws(Problem) -> Principal {
        let authenticator = try! await Authenticator(apiKeys: [], jwt: .init(hmacSecret: secret))
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        return try await authenticator.principal(for: headers)
    }

    @Test func aValidTokenActsAsItsSubject() async throws {
        let principal = try await principal(try await token(CustomerClaims(sub: "cust-Kate", expires: .now + 60)))
        #expect(principal == .customer("cust-Kate"))
    }

    @Test func aLookAlikeSubjectIsNoCustomer() async throws {
        let kelvin = try await token(CustomerClaims(sub: "cust-\u{212A}ate", expires: .now + 60))
        await #expect(throws: Problem.self) { try await principal(kelvin) }
    }

    @Test func aTokenNotYetValidIsRefused() async throws {
        let early = try await token(CustomerClaims(sub: "cust-1", expires: .now + 3_600, notBefore: .now + 600))
        await #expect(throws: Problem.self) { try await principal(early) }
    }

    @Test func onlyTheConfiguredAlgorithmIsAccepted() async throws {
        let other = try await token(CustomerClaims(sub: "cust-1", expires: .now + 60), digest: .sha512)
        #expect(Authenticator.headerAlgorithm(of: other) == "HS512")
        await #expect(throws: Problem.self) { try await principal(other) }
        // An unsigned token naming `none`, with the payload of a valid one.
        let valid = try await token(CustomerClaims(sub: "cust-1", expires: .now + 60))
        let parts = valid.split(separator: ".")
        let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        await #expect(throws: Problem.self) { try await principal("\(none).\(parts[1]).") }
    }

    @Test func jwksAlgorithmsComeFromTheKeys() {
        let jwks = #"{"keys":[{"kty":"RSA","alg":"RS384","n":"x","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}"#
        #expect(Authenticator.algorithms(inJWKS: jwks) == ["RS384", "ES256"])
    }

    @Test func theAPIListensOnLoopbackByDefault() {
        #expect(APIConfiguration().host == "127.0.0.1")
    }
}
