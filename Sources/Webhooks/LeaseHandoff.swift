import Foundation
import LeadStore

/// Hands leased deliveries from a node's one leasing thread to its workers. The leaser asks
/// for exactly as many deliveries as there are idle workers, so one `FOR UPDATE SKIP LOCKED`
/// query serves the whole node (fewer lease queries racing for the same rows) and nothing
/// waits leased in memory while a worker is busy with a slow receiver.
final class LeaseHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [LeasedDelivery] = []
    private var idleWorkers: Int
    private var stopping = false

    init(workers: Int) { idleWorkers = workers }

    /// Leaser: how many deliveries to lease now; waits up to `timeout` seconds for a worker to
    /// become free. 0 when none is free (or stopping).
    func capacity(waitingUpTo timeout: Double) -> Int {
        condition.lock()
        defer { condition.unlock() }
        if !stopping && idleWorkers - queue.count <= 0 { _ = condition.wait(until: Date().addingTimeInterval(timeout)) }
        return stopping ? 0 : max(0, idleWorkers - queue.count)
    }

    /// Leaser: gives leased deliveries to the workers.
    func hand(_ deliveries: [LeasedDelivery]) {
        guard !deliveries.isEmpty else { return }
        condition.lock()
        queue += deliveries
        condition.broadcast()
        condition.unlock()
    }

    /// Worker: the next delivery to send (the worker counts as busy until `done()`), or nil
    /// when stopping.
    func take() -> LeasedDelivery? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        guard !stopping, !queue.isEmpty else { return nil }
        idleWorkers -= 1
        return queue.removeFirst()
    }

    /// Worker: finished the delivery it took.
    func done() {
        condition.lock()
        idleWorkers += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Stops handing out work; returns what was leased but not taken (to give back).
    func stop() -> [LeasedDelivery] {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        let left = queue
        queue = []
        return left
    }
}
