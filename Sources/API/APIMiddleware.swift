import Foundation
import HTTPTypes
import Hummingbird
import Kafka
import Logging
import Postgres
import Projections
import Redis

/// Runs around every route: takes or makes the request id, authenticates, and turns every failure into
/// a problem document that carries the request id too.
struct APIMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let authenticator: Authenticator

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestID = request.headers[Self.requestIDHeader].flatMap(Self.acceptableID) ?? UUID().uuidString.lowercased()
        context.logger[metadataKey: "http.request.id"] = .string(context.requestID)
        var response: Response
        do {
            context.principal = try await authenticator.principal(for: request.headers)
            response = try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, request: request, logger: context.logger)
            response = try problem.response(from: request, context: context)
        }
        response.headers[Self.requestIDHeader] = context.requestID
        return response
    }

    /// A caller's request id is kept when it is short and printable; anything else is replaced.
    static func acceptableID(_ id: String) -> String? {
        (1...200).contains(id.utf8.count) && id.utf8.allSatisfy { (0x21...0x7E).contains($0) } ? id : nil
    }

    static func problem(for error: any Error, request: Request, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as HTTPError where error.status == .notFound:
            return .noRoute(request.method.rawValue, request.uri.path)
        case let error as HTTPError where error.status == .contentTooLarge:
            return Problem("body-too-large", status: .contentTooLarge, title: "The body is too large", detail: error.body ?? "the body exceeds the limit")
        case let error as HTTPError:
            return Problem("http-\(error.status.code)", status: error.status, title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase)
        case let error as BadCursor:
            return .badRequest(error.description, field: "cursor")
        case is PostgresError, is RedisError:
            logger.warning("read model unavailable", metadata: ["error": "\(loggable(error))"])
            return .unavailable("the read models cannot be reached right now")
        case is KafkaError:
            logger.warning("broker unavailable", metadata: ["error": "\(loggable(error))"])
            return .unavailable("the broker cannot be reached right now")
        default:
            logger.error("request failed", metadata: ["error": "\(loggable(error))"])
            return Problem("internal", status: .internalServerError, title: "Internal error", detail: "the request failed; its id is in X-Request-ID")
        }
    }
}

/// An error's text as one log line: what callers sent can be part of it, and a line break or another
/// control character in it must not forge a line of its own.
func loggable(_ error: any Error) -> String {
    var text = ""
    for scalar in "\(error)".unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            text += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            text.unicodeScalars.append(scalar)
        }
    }
    return text
}
