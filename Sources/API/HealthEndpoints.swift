import Contracts
import Hummingbird
import Streams

/// `/health/live`, `/health/ready` and `/metrics` as every Souk process answers them: the workers'
/// observability server and the API alike.
public enum HealthEndpoints {
    public static func live(_ health: WorkerHealth) -> Response {
        let stalled = health.stalledWorkers()
        return status(stalled.isEmpty ? .ok : .serviceUnavailable, stalled.isEmpty ? "live" : "stalled", stalled)
    }

    public static func ready(_ health: WorkerHealth) -> Response {
        let unready = health.unreadyWorkers()
        let stuck = health.stuckPartitions()
        let text = unready.isEmpty && health.isReady ? "ready" : stuck.isEmpty ? "restoring" : "stuck"
        let workers = unready.map { name in stuck[name].map { "\(name) (stuck partitions \($0.map(String.init).joined(separator: ",")))" } ?? name }
        return status(health.isReady ? .ok : .serviceUnavailable, text, workers)
    }

    /// - Parameter text: the Prometheus exposition of the process's metrics.
    public static func metrics(_ text: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    static func status(_ code: HTTPResponse.Status, _ text: String, _ workers: [String]) -> Response {
        let document = JSONValue.object(["status": .string(text), "workers": .array(workers.map(JSONValue.string))])
        return Response(status: code, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: (try? document.encoded()) ?? [])))
    }
}
