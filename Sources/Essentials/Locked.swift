import Foundation

/// A value behind a pthread mutex (`NSLock`). Used instead of `Synchronization.Mutex`, whose
/// Linux implementation (PI futex keyed by thread id) crashed the test run once with "Unknown
/// error occurred while attempting to acquire a Mutex"; a plain pthread mutex has no such mode.
/// A value that threads also wait on (for work, a signal, a deadline) is a `ConditionLocked`.
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline let lock = NSLock()
    @usableFromInline var value: Value

    public init(_ value: Value) { self.value = value }

    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
