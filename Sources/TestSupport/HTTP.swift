import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A free TCP port on loopback, for a server a test starts.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw DeadlineExceeded(description: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// GET `url`; `nil` when nothing answers yet.
public func httpGet(_ url: String) async -> (status: Int, body: String)? {
    guard let answer = try? await httpRequest("GET", url, timeout: 2) else { return nil }
    return (answer.status, answer.body)
}

public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    /// A header by name, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// One HTTP request; throws when nothing answers.
public func httpRequest(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil, timeout: TimeInterval = 40) async throws -> HTTPAnswer {
    guard let address = URL(string: url) else { throw DeadlineExceeded(description: "not a URL: \(url)") }
    var request = URLRequest(url: address)
    request.httpMethod = method
    request.timeoutInterval = timeout
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    request.httpBody = body.map { Data($0.utf8) }
    let (data, response) = try await URLSession.shared.data(for: request)
    guard let http = response as? HTTPURLResponse else { throw DeadlineExceeded(description: "no HTTP response from \(url)") }
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
    return HTTPAnswer(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
}
