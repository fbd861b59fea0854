import Synchronization

/// The result of one background job (a poll, a commit), set once by the job and awaited by the loop.
/// A wait ends when the result is set or when the waiting task is cancelled: a cancelled worker's job
/// runner stops, and the job may never run.
final class JobResult<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiters: [CheckedContinuation<Value?, Never>])>((nil, []))

    var value: Value? { state.withLock { $0.value } }

    func deliver(_ value: Value) {
        let waiters = state.withLock { state in
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The result, or `nil` once the calling task is cancelled before it arrives.
    func wait() async -> Value? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: Value?? = state.withLock { state in
                    if let value = state.value { return .some(value) }
                    // Checked under the lock the cancellation handler takes: it has either run (and
                    // found no waiter) or will find this one.
                    if Task.isCancelled { return .some(nil) }
                    state.waiters.append(continuation)
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: nil) }
        }
    }
}
