import Essentials
import Logging

/// A fixed set of threads taking jobs from one bounded queue. Handlers run here, never on the
/// event loops, because they may block (libpq is blocking). `submit` refuses work when every
/// thread is busy and the queue is full, so the caller can answer `503` at once.
final class WorkerPool: @unchecked Sendable {
    typealias Job = () -> Void

    private let lock: ConditionLocked<State>
    private var threads: [NativeThread] = []

    private struct State {
        var queue: BoundedQueue<Job>
        var idle = 0
        /// Workers running a job. Capacity is counted from this, not from `idle`: a worker that has
        /// not reached its first wait yet (or is between jobs) is free, even though it is not asleep.
        var busy = 0
        /// Wake-ups signalled but not yet consumed, so a burst does not signal the same sleeper twice.
        var pendingWakes = 0
        var stopping = false
        var running = 0
    }

    /// `threadCount` workers and a queue of `queueDepth` jobs waiting for one.
    init(threadCount: Int, queueDepth: Int) {
        self.threadCount = max(1, threadCount)
        self.queueDepth = max(1, queueDepth)
        // Room for the waiting jobs plus one per idle worker not yet running its job.
        lock = ConditionLocked(State(queue: BoundedQueue(capacity: self.queueDepth + self.threadCount)))
    }

    private let threadCount: Int
    private let queueDepth: Int

    func start() throws {
        lock.withLock { $0.running = threadCount }
        for i in 0..<threadCount {
            threads.append(try NativeThread(name: "lr-worker-\(i)") { [self] in self.run() })
        }
    }

    /// Queues `job`; false when the pool is saturated or stopping.
    func submit(_ job: @escaping Job) -> Bool { submit([job]) == 1 }

    /// Queues jobs in order until the queue is full; returns how many were taken (a prefix).
    /// Wakes at most one idle worker per job, after releasing the lock.
    func submit(_ jobs: [Job]) -> Int {
        let (taken, wake) = lock.withLock { s -> (Int, Bool) in
            guard !s.stopping else { return (0, false) }
            var taken = 0
            // Capacity is every free worker (each takes one job at once) plus `queueDepth` waiting,
            // however many jobs arrive in one batch before a worker has woken.
            for job in jobs {
                guard s.queue.count < queueDepth + threadCount - s.busy, s.queue.push(job) else { break }
                taken += 1
            }
            // Wake one sleeper; it wakes the next if work is still queued when it takes a job
            // (a cascade), so a burst of short jobs does not cost one futex wake-up per job.
            let wake = taken > 0 && s.idle > s.pendingWakes
            if wake { s.pendingWakes += 1 }
            return (taken, wake)
        }
        if wake { lock.signal() }
        return taken
    }

    /// Lets queued jobs finish, then ends the threads. Returns once all have exited or at
    /// `deadline` (a handler stuck forever must not hang shutdown; its thread is left behind).
    func shutdown(deadline: Nanoseconds) {
        lock.withLock { $0.stopping = true }
        lock.broadcast()
        let allExited = lock.withLock(when: { $0.running == 0 }, deadline: deadline) { _, exited in exited }
        if allExited {
            for thread in threads { thread.join() }
        }
    }

    private func run() {
        var finishedJob = false
        while true {
            let (next, wakeNext) = lock.withCondition { held -> (Job?, Bool) in
                if finishedJob { held.value.busy -= 1 }  // counted under the lock this turn takes anyway
                while held.value.queue.isEmpty && !held.value.stopping {
                    held.value.idle += 1
                    held.wait()
                    held.value.idle -= 1
                    if held.value.pendingWakes > 0 { held.value.pendingWakes -= 1 }
                }
                guard let job = held.value.queue.pop() else {  // empty and stopping
                    held.value.running -= 1
                    return (nil, false)
                }
                held.value.busy += 1
                let wakeNext = !held.value.queue.isEmpty && held.value.idle > held.value.pendingWakes
                if wakeNext { held.value.pendingWakes += 1 }
                return (job, wakeNext)
            }
            guard let job = next else {
                lock.broadcast()
                return
            }
            if wakeNext { lock.signal() }
            job()
            finishedJob = true
        }
    }
}
