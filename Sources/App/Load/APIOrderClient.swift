import API
import Contracts
import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Places orders through the HTTP API (`POST /api/orders`) as an upstream system should: one
/// `Idempotency-Key` per order, and every failure that may be transient (nothing listening, a reset
/// connection, a 5xx, a 429, a key still claimed by an instance that died) retried with that same key
/// until the API accepts it or the deadline passes. The key makes a retry of a request that did reach
/// the broker name the same command, so an API killed mid-request neither loses nor doubles the order.
struct APIOrderClient: Sendable {
    let endpoint: URL
    let apiKey: String
    /// How long one order may take to be accepted, across all its attempts. Above the API's 30 s
    /// takeover of a key claimed by an instance that was killed before it answered.
    let deadline: Duration
    let session: URLSession
    let logger: Logger

    struct Rejected: Error, CustomStringConvertible {
        var description: String
    }

    /// What the API answered, reduced to what the client does next.
    enum Verdict: Equatable {
        case accepted
        case retry(String)
        case reject(String)
    }

    /// - Parameter base: the API's address, e.g. `http://127.0.0.1:8000` (the route is `/api/orders` under it).
    init(base: URL, apiKey: String, deadline: Duration = .seconds(120), logger: Logger) {
        self.endpoint = base.appendingPathComponent("api").appendingPathComponent("orders")
        self.apiKey = apiKey
        self.deadline = deadline
        self.logger = logger
        let configuration = URLSessionConfiguration.ephemeral
        // A frozen or killed API must cost one attempt, not the whole deadline.
        configuration.timeoutIntervalForRequest = 10
        configuration.httpMaximumConnectionsPerHost = 32
        self.session = URLSession(configuration: configuration)
    }

    /// The first API key of `SOUK_API_KEYS` (`name=key[,name=key…]`): the secret is what is sent.
    static func apiKey(fromKeys text: String) throws -> String {
        guard let first = try APIConfiguration.parseAPIKeys(text).first else {
            throw SoukConfigurationError("SOUK_API_KEYS names no key")
        }
        return first.secret
    }

    /// Places `order` and returns how many attempts it took; throws `Rejected` when the API refused it
    /// for good or the deadline passed. Never gives up silently.
    func place(_ order: CreateOrder) async throws(Rejected) -> Int {
        let body: Data
        do { body = Data(try order.encoded()) } catch { throw Rejected(description: "order \(order.orderId): not encodable: \(error)") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(apiKey, forHTTPHeaderField: "X-API-Key")
        request.setValue("load-\(order.orderId)", forHTTPHeaderField: "Idempotency-Key")

        let clock = ContinuousClock()
        let giveUp = clock.now + deadline
        var attempts = 0
        var backoff = Duration.milliseconds(100)
        var last = "no attempt"
        while clock.now < giveUp {
            attempts += 1
            let verdict: Verdict
            do {
                let (data, response) = try await session.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                verdict = Self.verdict(status: status, body: String(decoding: data, as: UTF8.self), orderId: order.orderId)
            } catch {
                // Refused, reset or timed out: the API is down or frozen; it may have written the command.
                verdict = .retry("\(error.localizedDescription)")
            }
            switch verdict {
            case .accepted:
                return attempts
            case .reject(let reason):
                throw Rejected(description: "order \(order.orderId): the API refused it: \(reason)")
            case .retry(let reason):
                last = reason
                if attempts == 1 || attempts % 10 == 0 {
                    logger.info("retrying an order through the API", metadata: ["order.id": "\(order.orderId)", "attempt": "\(attempts)", "reason": "\(reason)"])
                }
            }
            try? await Task.sleep(for: backoff)
            if Task.isCancelled { break }
            backoff = min(backoff * 2, .seconds(2))
        }
        throw Rejected(description: "order \(order.orderId): not accepted by the API within \(deadline) (\(attempts) attempts; last: \(last))")
    }

    // MARK: - The pure step

    /// 202 with the order's key is done; what a restarted or less busy API may accept is retried;
    /// any other answer is the request's fault and retrying it would not help.
    static func verdict(status: Int, body: String, orderId: String) -> Verdict {
        switch status {
        case 200, 202:
            struct Accepted: Decodable { var key: String }
            guard let accepted = try? JSONDecoder().decode(Accepted.self, from: Data(body.utf8)) else {
                return .reject("HTTP \(status) without an accepted command: \(body.prefix(200))")
            }
            // The body carries the order id, so the record must be keyed by it: the tracker follows that key.
            return accepted.key == orderId ? .accepted : .reject("accepted under key \(accepted.key), not \(orderId)")
        case 409 where body.contains("idempotency-key-in-use"):
            return .retry("HTTP 409: the key is still claimed by an earlier attempt")
        case 408, 429, 500...599:
            return .retry("HTTP \(status)")
        default:
            return .reject("HTTP \(status): \(body.prefix(300))")
        }
    }
}
