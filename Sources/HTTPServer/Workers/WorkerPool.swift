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
    /// Workers running a job. Capacity is counted from this, not from `idle`: a worker that has
    /// not reached its first wait yet (or is between jobs) is free, even though it is not asleep.
    private var busy = 0
    /// Wake-ups signalled but not yet consumed, so a burst does not signal the same sleeper twice.
    private var pendingWakes = 0
    private var stopping = false
    private var running = 0

    /// `threadCount` workers and a queue of `queueDepth` jobs waiting for one.
    init(threadCount: Int, queueDepth: Int) {
        self.threadCount = max(1, threadCount)
        self.queueDepth = max(1, queueDepth)
        // Room for the waiting jobs plus one per idle worker not yet running its job.
        queue = BoundedQueue(capacity: self.queueDepth + self.threadCount)
    }

    private let threadCount: Int
    private let queueDepth: Int

    func start() throws {
        lock.withLock { running = threadCount }
        for i in 0..<threadCount {
            threads.append(try NativeThread(name: "lr-worker-\(i)") { [self] in self.run() })
        }
    }

    /// Queues `job`; false when the pool is saturated or stopping.
    func submit(_ job: @escaping Job) -> Bool { submit([job]) == 1 }

    /// Queues jobs in order until the queue is full; returns how many were taken (a prefix).
    /// Wakes at most one idle worker per job, after releasing the lock.
    func submit(_ jobs: [Job]) -> Int {
        lock.lock()
        guard !stopping else {
            lock.unlock()
            return 0
        }
        var taken = 0
        // Capacity is every free worker (each takes one job at once) plus `queueDepth` waiting,
        // however many jobs arrive in one batch before a worker has woken.
        for job in jobs {
            guard queue.count < queueDepth + threadCount - busy, queue.push(job) else { break }
            taken += 1
        }
        // Wake one sleeper; it wakes the next if work is still queued when it takes a job
        // (a cascade), so a burst of short jobs does not cost one futex wake-up per job.
        let wake = taken > 0 && idle > pendingWakes
        if wake { pendingWakes += 1 }
        lock.unlock()
        if wake { lock.signal() }
        return taken
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
        var finishedJob = false
        while true {
            lock.lock()
            if finishedJob { busy -= 1 }  // counted under the lock this turn takes anyway
            while queue.isEmpty && !stopping {
                idle += 1
                lock.wait()
                idle -= 1
                if pendingWakes > 0 { pendingWakes -= 1 }
            }
            guard let job = queue.pop() else {  // empty and stopping
                running -= 1
                lock.unlock()
                lock.broadcast()
                return
            }
            busy += 1
            let wakeNext = !queue.isEmpty && idle > pendingWakes
            if wakeNext { pendingWakes += 1 }
            lock.unlock()
            if wakeNext { lock.signal() }
            job()
            finishedJob = true
        }
    }
}
