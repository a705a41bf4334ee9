import Essentials
import LeadStore
import Postgres

extension Backtest {
    /// Reads a backtest's pages on its own thread (`lr-backtest-rd`), at most two ahead of the
    /// replay: PostgreSQL produces the next page while the engines work on this one, instead of
    /// both taking turns (docs/benchmarks/backtest.md). Stopping it (the replay finished, failed
    /// or was cancelled) lets the thread end after its current query; `stop` waits for that.
    final class PageReader: Sendable {
        struct Shared {
            var pages: [Page] = []
            var failure: (any Error)?
            var stopped = false
        }
        static let ahead = 2
        private let shared: ConditionLocked<Shared>
        private let thread: NativeThread

        init(backtest: Backtest, pool: PostgresPool) {
            let shared = ConditionLocked(Shared()), ahead = Self.ahead
            self.shared = shared
            thread = NativeThread.start(name: "lr-backtest-rd") {
                // Turning rows into pages is CPU too: it yields to request handling as the replay does.
                NativeThread.lowerCurrentPriority(by: Backtest.niceness)
                var cursor: EventCursor?
                var carried: Group?
                do {
                    while true {
                        let page = try backtest.readPage(pool: pool, after: &cursor, carried: &carried)
                        let stop = shared.withLock(when: { $0.pages.count < ahead || $0.stopped }) { s -> Bool in
                            if !s.stopped { s.pages.append(page) }
                            return s.stopped
                        }
                        shared.broadcast()
                        if stop || page.last { return }
                    }
                } catch {
                    shared.withLock { $0.failure = error }
                    shared.broadcast()
                }
            }
        }

        /// The next page, waiting for it; rethrows the reader's failure.
        func next() throws -> Page {
            let page: Page = try shared.withLock(when: { !$0.pages.isEmpty || $0.failure != nil }) { s in
                if !s.pages.isEmpty { return s.pages.removeFirst() }
                throw s.failure!
            }
            shared.broadcast()
            return page
        }

        /// Tells the thread to stop and waits for it.
        func stop() {
            shared.withLock { $0.stopped = true }
            shared.broadcast()
            thread.join()
        }
    }
}
