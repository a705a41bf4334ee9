import Essentials
import Foundation
import LeadStore

/// Hands leased deliveries from a node's one leasing thread to its workers. Leasing is a
/// statement whose cost is mostly fixed (it walks the due deliveries and checks each one's
/// per-lead order), so the leaser leases in batches of up to `batch` — one statement for many
/// deliveries — once a worker is idle and fewer than one per worker are left. With every
/// worker busy (receivers that hang) it leases nothing more. A delivery waiting here holds its
/// lease; a worker only sends it while the lease still covers a whole attempt (`sendBy`), so
/// one that waited behind receivers that hang is given back (`takeStale`) rather than sent
/// after its lease could run out and another node retake it.
///
/// A lease that found fewer due deliveries than it asked for walked every pending one (most
/// wait behind an earlier delivery of their lead still in flight): leasing again at once would
/// walk them all again for the one or two that a finished attempt let through. So after such a
/// lease the next waits until half as many attempts as it got have finished (each may let the
/// next delivery of its lead through), new deliveries were dispatched (`newWork`), or `holdOff`
/// seconds passed. And while the last attempt to finish failed (a receiver refusing, erroring or
/// hanging), a lease asks only for as many as there are idle workers: a batch would only wait
/// behind it.
final class LeaseHandoff: @unchecked Sendable {
    private let state: ConditionLocked<State>
    private let workers: Int
    private let batch: Int
    private let holdOff: Double

    private struct Waiting {
        var delivery: LeasedDelivery
        /// Monotonic deadline: after it, an attempt could outlast the lease.
        var sendBy: UInt64
    }

    private struct State {
        var queue: [Waiting] = []
        var stale: [LeasedDelivery] = []
        var idleWorkers: Int
        var stopping = false
        /// Attempts finished since the last lease, and how many the next lease waits for.
        var finished = 0
        var needFinished = 0
        /// The last attempt to finish failed.
        var failed = false
        /// Monotonic time after which the next lease waits for nothing more.
        var holdUntil: UInt64 = 0
    }

    /// `workers` threads take deliveries; one lease asks for at most `batch` (at least one per
    /// worker); after a short lease the next waits at most `holdOff` seconds.
    init(workers: Int, batch: Int, holdOff: Double) {
        self.workers = max(1, workers)
        self.batch = max(self.workers, batch)
        self.holdOff = holdOff
        state = ConditionLocked(State(idleWorkers: self.workers))
    }

    /// Leaser: how many deliveries to lease now — a batch less what is still waiting, once a
    /// worker is idle, fewer than one per worker wait and a short lease's hold-off is over; waits
    /// up to `timeout` seconds for that. 0 when it did not happen (or stopping).
    func capacity(waitingUpTo timeout: Double) -> Int {
        let deadline = MonotonicClock.deadline(after: timeout)
        return state.withCondition { held in
            let now = MonotonicClock.nanoseconds()
            if !held.value.stopping && !wantsMore(held.value, now: now) {
                held.wait(deadline: held.value.holdUntil > now ? min(deadline, held.value.holdUntil) : deadline)
            }
            Self.moveStale(&held.value)
            let s = held.value
            guard !s.stopping && wantsMore(s, now: MonotonicClock.nanoseconds()) else { return 0 }
            return s.failed ? max(0, s.idleWorkers - s.queue.count) : batch - s.queue.count
        }
    }

    private func wantsMore(_ s: State, now: UInt64) -> Bool {
        s.idleWorkers > 0 && s.queue.count < workers && (s.finished >= s.needFinished || now >= s.holdUntil)
    }

    /// Leaser: gives the deliveries a lease of `asked` got (none, too) to the workers; each must
    /// be sent by the monotonic `sendBy`.
    func hand(_ deliveries: [LeasedDelivery], asked: Int, sendBy: UInt64) {
        state.withLock { s in
            s.queue += deliveries.map { Waiting(delivery: $0, sendBy: sendBy) }
            s.finished = 0
            s.needFinished = deliveries.count < asked ? max(1, deliveries.count / 2) : 0
            s.holdUntil = MonotonicClock.deadline(after: holdOff)
        }
        if !deliveries.isEmpty { state.broadcast() }
    }

    /// Dispatcher: new deliveries exist, so the next lease need not wait for finished attempts.
    func newWork() {
        state.withLock { $0.needFinished = 0 }
        state.broadcast()
    }

    /// Worker: the next delivery to send (the worker counts as busy until `done()`), or nil
    /// when stopping. Deliveries past their `sendBy` are set aside for `takeStale` instead.
    func take() -> LeasedDelivery? {
        state.withCondition { held -> LeasedDelivery? in
            while true {
                Self.moveStale(&held.value)
                if held.value.stopping { return nil }
                if !held.value.queue.isEmpty {
                    held.value.idleWorkers -= 1
                    return held.value.queue.removeFirst().delivery
                }
                held.wait()
            }
        }
    }

    /// Worker: finished the delivery it took (`failed`: the attempt did not get a 2xx).
    func done(failed: Bool) {
        let wake = state.withLock { s -> Bool in
            s.idleWorkers += 1
            s.finished += 1
            s.failed = failed
            return s.queue.count < workers  // the leaser may be waiting for the queue to run low
        }
        if wake { state.broadcast() }
    }

    /// Leaser: deliveries whose lease no longer covers an attempt, to give back.
    func takeStale() -> [LeasedDelivery] {
        state.withLock { s in
            Self.moveStale(&s)
            defer { s.stale = [] }
            return s.stale
        }
    }

    /// Stops handing out work; returns what was leased but not taken (to give back).
    func stop() -> [LeasedDelivery] {
        defer { state.broadcast() }
        return state.withLock { s in
            s.stopping = true
            defer { s.queue = []; s.stale = [] }
            return s.stale + s.queue.map(\.delivery)
        }
    }

    /// The queue is in lease order, and one lease's deliveries share a deadline, so the stale
    /// ones are at its front.
    private static func moveStale(_ s: inout State) {
        let now = MonotonicClock.nanoseconds()
        let n = s.queue.prefix { $0.sendBy < now }.count
        guard n > 0 else { return }
        s.stale += s.queue.prefix(n).map(\.delivery)
        s.queue.removeFirst(n)
    }
}
