import Foundation
import Logging
import Postgres
import Projections
import ServiceLifecycle
import Synchronization

/// Waits for command outcomes on behalf of `GET /api/commands/:id?wait=…`.
///
/// However many requests wait, one loop asks PostgreSQL for all their ids at once every
/// `pollInterval`; the number of waiters is bounded, and a request over the bound is told to come back
/// (503 with `Retry-After`) instead of queueing.
public final class OutcomeWatcher: Service, Sendable {
    private struct Waiter {
        var id: UUID
        var commandID: String
        var continuation: CheckedContinuation<CommandOutcomeView?, Never>
    }

    private struct State {
        var admitted = 0
        /// Admitted waits per caller, so that one caller cannot take the whole pool.
        var admittedByCaller: [String: Int] = [:]
        var waiters: [UUID: Waiter] = [:]
    }

    private let state = Mutex(State())
    private let backend: QueryBackend
    private let maxWaiters: Int
    private let maxWaitersPerCaller: Int
    private let pollInterval: Duration
    private let logger: Logger
    /// Called on every turn of the loop: the API's liveness.
    private let onTick: @Sendable () -> Void

    public init(
        backend: QueryBackend, maxWaiters: Int, maxWaitersPerCaller: Int = .max, pollInterval: Duration = .milliseconds(100), logger: Logger, onTick: @escaping @Sendable () -> Void = {}
    ) {
        self.backend = backend
        self.onTick = onTick
        self.maxWaiters = maxWaiters
        self.maxWaitersPerCaller = maxWaitersPerCaller
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// How many requests wait right now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// The outcome, waiting up to `timeout` for it to appear. - Returns: `nil` while still pending.
    public func outcome(of commandID: String, waitingUpTo timeout: Duration, caller: String = "") async throws -> CommandOutcomeView? {
        if let outcome = try await backend.queries().commandOutcome(commandID) { return outcome }
        guard timeout > .zero else { return nil }
        let admission = state.withLock { state -> Problem? in
            if state.admittedByCaller[caller, default: 0] >= maxWaitersPerCaller {
                return Problem.tooManyWaits("at most \(maxWaitersPerCaller) of your requests may wait for outcomes at once; retry without ?wait or later")
            }
            guard state.admitted < maxWaiters else {
                return Problem.unavailable("too many requests are waiting for outcomes; retry without ?wait or later")
            }
            state.admitted += 1
            state.admittedByCaller[caller, default: 0] += 1
            return nil
        }
        if let admission { throw admission }
        defer {
            state.withLock { state in
                state.admitted -= 1
                state.admittedByCaller[caller, default: 1] -= 1
                if state.admittedByCaller[caller] == 0 { state.admittedByCaller[caller] = nil }
            }
        }
        return await withTaskGroup(of: CommandOutcomeView?.self) { group in
            group.addTask { await self.register(commandID) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func register(_ commandID: String) async -> CommandOutcomeView? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters[id] = Waiter(id: id, commandID: commandID, continuation: continuation)
                    return false
                }
                if cancelled { continuation.resume(returning: nil) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: nil)
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            onTick()
            let wanted = Set(state.withLock { $0.waiters.values.map(\.commandID) })
            guard !wanted.isEmpty else { continue }
            let found: [String: CommandOutcomeView]
            do {
                found = try await backend.queries().commandOutcomes(Array(wanted))
            } catch {
                logger.warning("outcome lookup failed", metadata: ["error": "\(error)"])
                continue
            }
            let ready = state.withLock { state -> [(Waiter, CommandOutcomeView)] in
                let done = state.waiters.values.compactMap { waiter in found[waiter.commandID].map { (waiter, $0) } }
                for (waiter, _) in done { state.waiters.removeValue(forKey: waiter.id) }
                return done
            }
            for (waiter, outcome) in ready { waiter.continuation.resume(returning: outcome) }
        }
        // Nobody waits past shutdown: every waiter is answered "pending".
        let left = state.withLock { state in
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in left { waiter.continuation.resume(returning: nil) }
    }
}
