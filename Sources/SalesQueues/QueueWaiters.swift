import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// Long-poll support: one LISTEN connection per node (`PostgresListener`) counts the NOTIFYs of
/// each queue; a waiting claim remembers the count before it looked at the table and sleeps on a
/// condition until the count moves or its deadline passes — a wake-up sent between its look and
/// its sleep is never lost, and nothing polls.
///
/// Waiting claims hold an HTTP worker thread each (the server has no deferred responses), so at
/// most `maxWaiters` wait at once; the next gets `nil` from `admit()` (the route answers 503 with
/// `Retry-After`), which keeps workers free for every other request.
public final class QueueWaiters: @unchecked Sendable {
    /// How waits ended, for tests and `/metrics`-style inspection.
    public struct Counters: Sendable, Equatable {
        /// Waits a NOTIFY of their queue ended.
        public var wokenByNotify = 0
        /// Waits that ran to their deadline.
        public var timedOut = 0
        /// Claims refused because `maxWaiters` already waited.
        public var rejected = 0
    }

    /// Most claims waiting at once (each holds an HTTP worker thread).
    public let maxWaiters: Int
    let listener: PostgresListener?
    private let state = ConditionLocked(State())

    private struct State {
        var versions: [String: Int] = [:]
        var waiting = 0
        var counts = Counters()
        var stopped = false
    }

    /// A registry fed by `listener` (nil: never woken by NOTIFY, waits run to their deadline).
    public init(listener: PostgresListener?, maxWaiters: Int) {
        self.listener = listener
        self.maxWaiters = maxWaiters
        listener?.subscribe(queueNotifyChannel) { [weak self] note in self?.notified(queue: note.payload) }
    }

    /// Starts listening and waits (up to 5 s) until the LISTEN is in place.
    public func start() {
        guard let listener else { return }
        listener.start()
        _ = listener.waitUntilListening(timeout: 5)
    }

    /// Wakes every waiter (they answer with what they have) and stops listening.
    public func stop() {
        state.withLock { $0.stopped = true }
        state.broadcast()
        listener?.stop()
    }

    /// Counts a NOTIFY of `queue` and wakes its waiters.
    func notified(queue: String) {
        state.withLock { $0.versions[queue, default: 0] += 1 }
        state.broadcast()
    }

    /// A waiting slot, or nil when `maxWaiters` claims already wait. Give it back with `leave()`.
    public func admit() -> Bool {
        state.withLock { s in
            guard s.waiting < maxWaiters, !s.stopped else { s.counts.rejected += 1; return false }
            s.waiting += 1
            return true
        }
    }

    /// Gives back a slot taken by `admit()`.
    public func leave() {
        state.withLock { $0.waiting -= 1 }
    }

    /// The NOTIFY count of `queue`; read it BEFORE looking at the table.
    public func version(of queue: String) -> Int {
        state.withLock { $0.versions[queue, default: 0] }
    }

    /// Sleeps until `queue` was notified after `seen`, or `deadline`; true when notified.
    public func wait(queue: String, seen: Int, until deadline: Date) -> Bool {
        let deadline = MonotonicClock.deadline(after: deadline.timeIntervalSinceNow)
        return state.withCondition { held in
            while held.value.versions[queue, default: 0] == seen && !held.value.stopped {
                if !held.wait(deadline: deadline) {
                    if held.value.versions[queue, default: 0] != seen { break }
                    held.value.counts.timedOut += 1
                    return false
                }
            }
            if held.value.stopped { return false }
            held.value.counts.wokenByNotify += 1
            return true
        }
    }

    /// True once `stop()` ran: waits end at once.
    public var isStopped: Bool {
        state.withLock { $0.stopped }
    }

    /// Claims waiting right now.
    public var waitingCount: Int {
        state.withLock { $0.waiting }
    }

    /// How waits ended so far.
    public var counters: Counters {
        state.withLock { $0.counts }
    }
}
