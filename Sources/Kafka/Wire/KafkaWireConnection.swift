import Glibc

/// One blocking plaintext connection to a broker, for the few requests librdkafka cannot make for us
/// (see `KafkaEpochRepair`). Every call blocks: run it on a `BlockingExecutor`, never on the
/// cooperative pool. Each read and write is bounded by the timeout given at connection.
final class KafkaWireConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let socket: Int32
    /// The `host:port` it is connected to.
    let address: String
    private let clientID: String
    private var correlationID: Int32 = 0

    /// Connects to the first of `servers` (`host:port`, comma-separated) that answers.
    init(servers: String, clientID: String, timeout: Duration) throws {
        var lastFailure = Failure(description: "no broker address in \"\(servers)\"")
        for server in servers.split(separator: ",") {
            let address = server.trimmingPrefix("PLAINTEXT://")
            guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
                lastFailure = Failure(description: "not host:port: \(address)")
                continue
            }
            let host = String(address[..<colon].filter { $0 != "[" && $0 != "]" })
            do {
                socket = try Self.connect(host: host, port: port, timeout: timeout)
                self.address = "\(host):\(port)"
                self.clientID = clientID
                return
            } catch let failure as Failure {
                lastFailure = failure
            }
        }
        throw lastFailure
    }

    deinit { close(socket) }

    /// Sends one request (header v1) and returns its response body after the correlation id.
    func request(apiKey: Int16, version: Int16, body: KafkaWireWriter) throws -> KafkaWireReader {
        correlationID &+= 1
        var header = KafkaWireWriter()
        header.int16(apiKey)
        header.int16(version)
        header.int32(correlationID)
        header.nullableString(clientID)
        var frame = KafkaWireWriter()
        frame.bytesField(header.bytes + body.bytes)
        try write(frame.bytes)

        var sizeReader = KafkaWireReader(try read(4))
        let size = try sizeReader.int32()
        guard size >= 4, size <= 64 << 20 else { throw Failure(description: "response of \(size) bytes") }
        var response = KafkaWireReader(try read(Int(size)))
        guard try response.int32() == correlationID else { throw Failure(description: "response to another request") }
        return response
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(description: "send failed (errno \(errno))") }
            sent += count
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let got = buffer[received...].withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { throw Failure(description: got == 0 ? "connection closed" : "receive failed (errno \(errno))") }
            received += got
        }
        return buffer
    }

    private static func connect(host: String, port: UInt16, timeout: Duration) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(first) }
        let milliseconds = max(Int(timeout.timeoutMilliseconds), 1)
        var limit = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let descriptor = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard descriptor >= 0 else { continue }
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return descriptor }
            close(descriptor)
        }
        throw Failure(description: "cannot connect to \(host):\(port)")
    }
}
