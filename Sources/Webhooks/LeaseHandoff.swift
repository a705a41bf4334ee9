import Essentials
import Foundation
import LeadStore

/// Hands leased deliveries from a node's one leasing thread to its workers. The leaser asks
/// for exactly as many deliveries as there are idle workers, so one `FOR UPDATE SKIP LOCKED`
/// query serves the whole node (fewer lease queries racing for the same rows) and nothing
/// waits leased in memory while a worker is busy with a slow receiver.
final class LeaseHandoff: @unchecked Sendable {
    private let state: ConditionLocked<State>

    private struct State {
        var queue: [LeasedDelivery] = []
        var idleWorkers: Int
        var stopping = false
        /// Deliveries the leaser may lease now.
        var free: Int { max(0, idleWorkers - queue.count) }
    }

    init(workers: Int) { state = ConditionLocked(State(idleWorkers: workers)) }

    /// Leaser: how many deliveries to lease now; waits up to `timeout` seconds for a worker to
    /// become free. 0 when none is free (or stopping).
    func capacity(waitingUpTo timeout: Double) -> Int {
        let deadline = MonotonicClock.deadline(after: timeout)
        return state.withCondition { held in
            if !held.value.stopping && held.value.free == 0 { held.wait(deadline: deadline) }
            return held.value.stopping ? 0 : held.value.free
        }
    }

    /// Leaser: gives leased deliveries to the workers.
    func hand(_ deliveries: [LeasedDelivery]) {
        guard !deliveries.isEmpty else { return }
        state.withLock { $0.queue += deliveries }
        state.broadcast()
    }

    /// Worker: the next delivery to send (the worker counts as busy until `done()`), or nil
    /// when stopping.
    func take() -> LeasedDelivery? {
        state.withLock(when: { !$0.queue.isEmpty || $0.stopping }) { s in
            guard !s.stopping, !s.queue.isEmpty else { return nil }
            s.idleWorkers -= 1
            return s.queue.removeFirst()
        }
    }

    /// Worker: finished the delivery it took.
    func done() {
        state.withLock { $0.idleWorkers += 1 }
        state.broadcast()
    }

    /// Stops handing out work; returns what was leased but not taken (to give back).
    func stop() -> [LeasedDelivery] {
        defer { state.broadcast() }
        return state.withLock { s in
            s.stopping = true
            defer { s.queue = [] }
            return s.queue
        }
    }
}
