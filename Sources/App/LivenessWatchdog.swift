import Logging
import ServiceLifecycle
import Streams

/// Ends the process with an error as soon as one of its workers is not live (it keeps aborting, or
/// input waits and nothing commits), so that its supervisor — the fault test, Kubernetes — restarts
/// it instead of leaving a wedged member in the group.
struct LivenessWatchdog: Service {
    let health: WorkerHealth
    let logger: Logger
    var interval: Duration = .seconds(1)

    struct NotLive: Error, CustomStringConvertible {
        var workers: [String]
        var description: String { "workers not live: \(workers.joined(separator: ", "))" }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let stalled = health.stalledWorkers()
            // A worker that stopped on its own has already ended the group with its error.
            if !stalled.isEmpty {
                logger.critical("a worker is not live; exiting so that the supervisor restarts the process", metadata: ["souk.workers": "\(stalled)"])
                throw NotLive(workers: stalled)
            }
            try? await Task.sleep(for: interval)
        }
    }
}
