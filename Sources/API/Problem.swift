import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import JSONCodec
import Streams

/// An RFC 9457 problem document: the one error type of the API. Handlers throw it; Hummingbird turns
/// it into an `application/problem+json` response.
public struct Problem: Error, Sendable, Equatable {
    /// The last path segment of the `type` URI, e.g. `invalid-command`.
    public var kind: String
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    /// The JSON pointer of the first failing field, when one field is to blame.
    public var field: String?
    /// Every failing field with its reason (schema violations).
    public var errors: [FieldError]
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: [String: String]

    public struct FieldError: Sendable, Equatable, Codable {
        public var field: String
        public var message: String
    }

    public init(
        _ kind: String,
        status: HTTPResponse.Status,
        title: String,
        detail: String,
        field: String? = nil,
        errors: [FieldError] = [],
        headers: [String: String] = [:]
    ) {
        self.kind = kind
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.errors = errors
        self.headers = headers
    }

    public static let typeBase = "https://souk.dev/problems/"

    public var type: String { Self.typeBase + kind }
}

// MARK: - The problems the API answers with

extension Problem {
    public static func badRequest(_ detail: String, field: String? = nil) -> Problem {
        Problem("bad-request", status: .badRequest, title: "The request is malformed", detail: detail, field: field)
    }

    public static func invalidJSON(_ detail: String) -> Problem {
        Problem("invalid-json", status: .badRequest, title: "The body is not valid JSON", detail: detail)
    }

    /// A 422 naming every field of `typeName`'s document that fails its schema.
    public static func schemaViolations(_ kind: String, title: String, _ typeName: String, _ violations: [SchemaViolation]) -> Problem {
        Problem(
            kind, status: .unprocessableContent, title: title, detail: "\(typeName): " + violations.map(\.description).joined(separator: "; "),
            field: violations.first?.pointer, errors: violations.map { FieldError(field: $0.pointer, message: $0.message) }
        )
    }

    public static func unauthorized(_ detail: String) -> Problem {
        Problem(
            "unauthorized", status: .unauthorized, title: "Authentication is required", detail: detail,
            headers: ["WWW-Authenticate": #"Bearer realm="souk", ApiKey realm="souk""#]
        )
    }

    public static func forbidden(_ detail: String) -> Problem {
        Problem("forbidden", status: .forbidden, title: "Not allowed", detail: detail)
    }

    public static func notFound(_ detail: String) -> Problem {
        Problem("not-found", status: .notFound, title: "Not found", detail: detail)
    }

    public static func noRoute(_ method: String, _ path: String) -> Problem {
        Problem("no-route", status: .notFound, title: "No such route", detail: "\(method) \(path) is not a route of this API (see /openapi.json)")
    }

    public static func conflict(_ kind: String, _ detail: String, retryAfter: Int? = nil) -> Problem {
        Problem(kind, status: .conflict, title: "Conflict", detail: detail, headers: retryAfter.map { ["Retry-After": String($0)] } ?? [:])
    }

    public static func tooLarge(limit: Int) -> Problem {
        Problem("body-too-large", status: .contentTooLarge, title: "The body is too large", detail: "bodies are limited to \(limit) bytes")
    }

    public static func unsupportedMediaType(_ got: String?) -> Problem {
        Problem(
            "unsupported-media-type", status: .unsupportedMediaType, title: "Send JSON",
            detail: "the body must be application/json, got \(got.map { "'\($0)'" } ?? "no Content-Type")"
        )
    }

    public static func tooManyWaits(_ detail: String) -> Problem {
        Problem("too-many-waits", status: .tooManyRequests, title: "Too many requests", detail: detail, headers: ["Retry-After": "1"])
    }

    public static func unavailable(_ detail: String, retryAfter: Int = 1) -> Problem {
        Problem("unavailable", status: .serviceUnavailable, title: "Try again later", detail: detail, headers: ["Retry-After": String(retryAfter)])
    }
}

// MARK: - HTTPResponseError

extension Problem: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body(instance: request.uri.path))))
    }

    struct Document: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var instance: String?
        var field: String?
        var errors: [FieldError]?
    }

    func body(instance: String?) -> [UInt8] {
        let document = Document(
            type: type, title: title, status: status.code, detail: detail, instance: instance, field: field, errors: errors.isEmpty ? nil : errors
        )
        return (try? SoukJSON.encode(document)) ?? Array(#"{"title":"error"}"#.utf8)
    }
}
