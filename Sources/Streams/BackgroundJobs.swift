/// Starts a worker's background jobs (partition preparations, commits, snapshot writes) as child
/// tasks of one task that the worker's `run` owns: they are cancelled with it, and none outlives it.
final class BackgroundJobs: Sendable {
    private let stream: AsyncStream<@Sendable () async -> Void>
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func start(_ job: @escaping @Sendable () async -> Void) {
        continuation.yield(job)
    }

    /// Runs every job started, each in a child task, until the calling task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in stream {
                group.addTask { await job() }
            }
        }
    }
}
