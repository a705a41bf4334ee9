import Foundation

/// A value behind an NSLock for tests that share results between threads. Not
/// `Synchronization.Mutex`: its Linux PI-futex implementation crashed a test run once with
/// "Unknown error occurred while attempting to acquire a Mutex".
final class TestLocked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
