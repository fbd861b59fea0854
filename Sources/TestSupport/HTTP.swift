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

/// Writes `request` as is to `127.0.0.1:port` and returns everything the server sends until it closes
/// (or `timeout` passes): for what URLSession will not send, such as a chunked body of our own framing.
/// The blocking socket calls run on a thread of their own, off Swift's cooperative pool.
public func rawHTTPExchange(port: Int, _ request: [UInt8], timeout: TimeInterval = 30) async throws -> String {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
        Thread.detachNewThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else { return continuation.resume(throwing: DeadlineExceeded(description: "nothing listens on port \(port)")) }
            // The server may answer and close before it has read everything; what it said still counts.
            var sent = 0
            while sent < request.count {
                let written = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break }
                sent += written
            }
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let read = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if read <= 0 { break }
                answer += buffer[..<read]
            }
            continuation.resume(returning: String(decoding: answer, as: UTF8.self))
        }
    }
}
