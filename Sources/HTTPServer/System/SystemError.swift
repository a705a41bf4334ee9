#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with `errno` captured where it happened so the log says what broke
/// (`bind: Address already in use`) rather than a bare code.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The call that failed, e.g. `"bind"`.
    public var operation: String
    /// `errno` right after the failing call.
    public var errno: Int32

    /// Captures the current `errno` for `operation`.
    init(_ operation: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.errno = errno
    }

    /// `operation: strerror (errno N)`, safe to show a user.
    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Nanoseconds on the monotonic clock: deadlines never jump with wall-clock changes.
typealias Nanoseconds = UInt64

extension Nanoseconds {
    /// Converts seconds (as configured) to nanoseconds, clamping negatives to zero.
    static func seconds(_ s: Double) -> Nanoseconds { s <= 0 ? 0 : Nanoseconds(s * 1e9) }
}
