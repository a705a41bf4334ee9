#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex with a condition variable on the monotonic clock: the one
/// blocking primitive of every thread that waits for work, a signal or a deadline (worker
/// pool, group-commit lanes, long polls, the connection pool, periodic jobs). The sibling of
/// `Locked`, and not `Synchronization.Mutex` for the same reason (see `Locked`); a plain pthread
/// mutex also sleeps at once when contended, where a spinning lock burns the holder's CPU.
///
/// Deadlines are `MonotonicClock` nanoseconds, so a wall-clock jump never cuts a wait short or
/// stretches it. `signal`/`broadcast` may be called with or without the lock held.
public final class ConditionLocked<Value>: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let cond: UnsafeMutablePointer<pthread_cond_t>
    @usableFromInline let storage: UnsafeMutablePointer<Value>

    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        storage = .allocate(capacity: 1)
        storage.initialize(to: value)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init")
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        #endif
        precondition(pthread_cond_init(cond, &attr) == 0, "pthread_cond_init")
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        storage.deinitialize(count: 1)
        storage.deallocate()
        cond.deallocate()
        mutex.deallocate()
    }

    /// The lock held, inside `withCondition`: the value (each access reads the shared storage
    /// afresh, so a loop re-checks it after every wait) and the waits. Never let it escape.
    public struct Held {
        @usableFromInline let owner: ConditionLocked<Value>
        @inlinable init(_ owner: ConditionLocked<Value>) { self.owner = owner }

        /// The guarded value.
        @inlinable public var value: Value {
            unsafeAddress { UnsafePointer(owner.storage) }
            nonmutating unsafeMutableAddress { owner.storage }
        }

        /// Releases the lock until signalled (or spuriously woken), then holds it again.
        @inlinable public func wait() { pthread_cond_wait(owner.cond, owner.mutex) }

        /// `wait()` until at most the monotonic `deadline`; false when it timed out.
        @inlinable @discardableResult
        public func wait(deadline: UInt64) -> Bool {
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            return pthread_cond_timedwait(owner.cond, owner.mutex, &ts) == 0
        }
    }

    /// Runs `body` with the lock held.
    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&storage.pointee)
    }

    /// Runs `body` with the lock held and the right to wait (for loops whose bookkeeping
    /// around each wait does not fit a predicate, such as counting idle workers).
    @inlinable
    public func withCondition<R>(_ body: (Held) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(Held(self))
    }

    /// Waits until `predicate` holds, then runs `body`, all with the lock held.
    @inlinable
    public func withLock<R>(when predicate: (Value) -> Bool, _ body: (inout Value) throws -> R) rethrows -> R {
        try withCondition { held in
            while !predicate(held.value) { held.wait() }
            return try body(&held.value)
        }
    }

    /// Waits until `predicate` holds or the monotonic `deadline` passes, then runs `body` with
    /// whether the predicate held.
    @inlinable
    public func withLock<R>(when predicate: (Value) -> Bool, deadline: UInt64,
                            _ body: (inout Value, _ satisfied: Bool) throws -> R) rethrows -> R {
        try withCondition { held in
            while !predicate(held.value) {
                if !held.wait(deadline: deadline) && MonotonicClock.nanoseconds() >= deadline {
                    return try body(&held.value, predicate(held.value))
                }
            }
            return try body(&held.value, true)
        }
    }

    /// `withLock(when:deadline:_:)` with a deadline `timeout` seconds from now.
    @inlinable
    public func withLock<R>(when predicate: (Value) -> Bool, timeout: Double,
                            _ body: (inout Value, _ satisfied: Bool) throws -> R) rethrows -> R {
        try withLock(when: predicate, deadline: MonotonicClock.deadline(after: timeout), body)
    }

    /// Wakes one waiter.
    @inlinable public func signal() { pthread_cond_signal(cond) }
    /// Wakes every waiter.
    @inlinable public func broadcast() { pthread_cond_broadcast(cond) }
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of every deadline a `ConditionLocked` waits for.
public enum MonotonicClock {
    /// Now.
    @inlinable
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Now plus `seconds` (negative counts as zero; huge values saturate).
    @inlinable
    public static func deadline(after seconds: Double) -> UInt64 {
        let now = nanoseconds()
        guard seconds > 0 else { return now }
        let delta = seconds * 1e9
        return delta >= Double(UInt64.max - now) ? UInt64.max : now + UInt64(delta)
    }
}
