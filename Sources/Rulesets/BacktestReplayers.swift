import Essentials
import Foundation
import Segmentation

extension Backtest {
    /// The evaluation workers of one backtest: `count` threads (`lr-backtest-0`, …) at nice +5,
    /// each with its own engines (`Backtest.withOwnEngines`),
    /// each replaying the leads the stable hash gives it (`Backtest.worker(of:among:)`), page after
    /// page, in lead order. The caller hands each page over split by worker and may run one page
    /// ahead of the slowest worker: a worker that finishes its share of a page early starts on
    /// the next instead of waiting at a barrier. A worker's failure stops them all and is
    /// rethrown to the caller; `stop` (finished, failed or cancelled) ends the threads after their
    /// current page and waits for them.
    final class Replayers: Sendable {
        struct Batch {
            var number: Int
            var groups: [Group]
            var states: [UUID: LeadState]
        }
        struct Shared {
            var queues: [[Batch]]
            /// The number of the last page each worker finished (−1: none yet).
            var finished: [Int]
            /// The number of the last page handed over.
            var handed = -1
            var failure: (any Error)?
            var stopped = false
        }
        let count: Int
        private let shared: ConditionLocked<Shared>
        private let threads: [NativeThread]

        /// One thread per element of `backtests`, replaying with that backtest's engines.
        init(backtests: [Backtest], each: @escaping @Sendable (Int, LeadOutcome) throws -> Void) {
            let count = backtests.count
            let shared = ConditionLocked(Shared(queues: Array(repeating: [], count: count), finished: Array(repeating: -1, count: count)))
            self.count = count
            self.shared = shared
            threads = (0..<count).map { worker in
                let backtest = backtests[worker]
                return NativeThread.start(name: "lr-backtest-\(worker)") {
                    NativeThread.lowerCurrentPriority(by: Backtest.niceness)
                    while let batch = shared.withLock(when: { !$0.queues[worker].isEmpty || $0.stopped }, { s -> Batch? in
                        s.stopped ? nil : s.queues[worker].removeFirst()
                    }) {
                        do {
                            for group in batch.groups { try each(worker, try backtest.outcome(of: group, states: batch.states)) }
                        } catch {
                            shared.withLock { s in
                                if s.failure == nil { s.failure = error }
                                s.stopped = true
                            }
                            shared.broadcast()
                            return
                        }
                        shared.withLock { $0.finished[worker] = batch.number }
                        shared.broadcast()
                    }
                }
            }
        }

        /// Hands page `number` (pages are numbered from 0, in order) to the workers, then waits
        /// until every worker has finished the page before it; returns that page's number (nil
        /// for the first page). Rethrows a worker's failure.
        func replay(_ page: Page, number: Int) throws -> Int? {
            var parts = Array(repeating: [Group](), count: count)
            for group in page.groups { parts[Backtest.worker(of: group.lead, among: count)].append(group) }
            shared.withLock { s in
                for worker in 0..<count { s.queues[worker].append(Batch(number: number, groups: parts[worker], states: page.states)) }
                s.handed = number
            }
            shared.broadcast()
            guard number > 0 else { return nil }
            try wait(for: number - 1)
            return number - 1
        }

        /// Waits until every worker has finished every page handed over.
        func finish() throws {
            try wait(for: shared.withLock { $0.handed })
        }

        private func wait(for number: Int) throws {
            try shared.withLock(when: { s in s.failure != nil || s.finished.allSatisfy { $0 >= number } }) { s in
                if let failure = s.failure { throw failure }
            }
        }

        /// Tells the workers to stop after their current page and waits for them.
        func stop() {
            shared.withLock { $0.stopped = true }
            shared.broadcast()
            for thread in threads { thread.join() }
        }
    }
}
