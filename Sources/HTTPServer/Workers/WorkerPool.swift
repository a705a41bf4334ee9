import Logging

/// A fixed set of threads taking jobs from one bounded queue. Handlers run here, never on the
/// event loops, because they may block (libpq is blocking). `submit` refuses work when every
/// thread is busy and the queue is full, so the caller can answer `503` at once.
final class WorkerPool: @unchecked Sendable {
    typealias Job = () -> Void

    private let lock = ConditionLock()
    private var queue: BoundedQueue<Job>
    private var threads: [NativeThread] = []
    private var idle = 0
    private var stopping = false
    private var running = 0

    /// `threadCount` workers and a queue of `queueDepth` jobs waiting for one.
    init(threadCount: Int, queueDepth: Int) {
        queue = BoundedQueue(capacity: max(1, queueDepth))
        self.threadCount = max(1, threadCount)
    }

    private let threadCount: Int

    func start() throws {
        lock.withLock { running = threadCount }
        for i in 0..<threadCount {
            threads.append(try NativeThread(name: "lr-worker-\(i)") { [self] in self.run() })
        }
    }

    /// Queues `job`; false when the pool is saturated or stopping.
    func submit(_ job: @escaping Job) -> Bool {
        lock.lock()
        guard !stopping, queue.push(job) else {
            lock.unlock()
            return false
        }
        let wake = idle > 0
        lock.unlock()
        if wake { lock.signal() }
        return true
    }

    /// Lets queued jobs finish, then ends the threads. Returns once all have exited or at
    /// `deadline` (a handler stuck forever must not hang shutdown; its thread is left behind).
    func shutdown(deadline: Nanoseconds) {
        lock.withLock { stopping = true }
        lock.broadcast()
        lock.withLock {
            while running > 0 {
                if !lock.wait(until: deadline) && monotonicNow() >= deadline { break }
            }
        }
        if lock.withLock({ running == 0 }) {
            for thread in threads { thread.join() }
        }
    }

    private func run() {
        while true {
            lock.lock()
            while queue.isEmpty && !stopping {
                idle += 1
                lock.wait()
                idle -= 1
            }
            guard let job = queue.pop() else {  // empty and stopping
                running -= 1
                lock.unlock()
                lock.broadcast()
                return
            }
            lock.unlock()
            job()
        }
    }
}
