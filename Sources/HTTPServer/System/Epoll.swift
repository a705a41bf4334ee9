#if canImport(Glibc)
import Glibc
#endif
private import CSystemShims

/// One epoll instance (owner of its fd). Registrations carry a 64-bit token that comes back
/// with each readiness event, so the loop finds the connection without a lookup by fd.
final class Epoll {
    let fd: Int32
    private var tokens: [UInt64]
    private var masks: [UInt32]

    /// Readiness bits as plain values (the C macros do not import reliably).
    struct Events: OptionSet {
        let rawValue: UInt32
        static let read = Events(rawValue: LR_EPOLLIN)
        static let write = Events(rawValue: LR_EPOLLOUT)
        static let error = Events(rawValue: LR_EPOLLERR)
        static let hangup = Events(rawValue: LR_EPOLLHUP)
        static let readHangup = Events(rawValue: LR_EPOLLRDHUP)
    }

    init(maxEvents: Int = 256) throws {
        fd = lr_epoll_create()
        if fd < 0 { throw SystemError("epoll_create1") }
        tokens = Array(repeating: 0, count: maxEvents)
        masks = Array(repeating: 0, count: maxEvents)
    }

    deinit { close(fd) }

    func add(_ target: Int32, events: Events, token: UInt64) throws {
        if lr_epoll_ctl(fd, 1, target, events.rawValue, token) != 0 { throw SystemError("epoll_ctl(ADD)") }
    }

    func modify(_ target: Int32, events: Events, token: UInt64) throws {
        if lr_epoll_ctl(fd, 2, target, events.rawValue, token) != 0 { throw SystemError("epoll_ctl(MOD)") }
    }

    /// Removes `target`; failures are ignored because the fd is about to be closed anyway.
    func remove(_ target: Int32) { _ = lr_epoll_ctl(fd, 3, target, 0, 0) }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and calls `handle` for each ready token.
    func wait(timeoutMilliseconds: Int32, _ handle: (UInt64, Events) -> Void) throws {
        let n = tokens.withUnsafeMutableBufferPointer { t in
            masks.withUnsafeMutableBufferPointer { m in
                lr_epoll_wait(fd, t.baseAddress, m.baseAddress, Int32(t.count), timeoutMilliseconds)
            }
        }
        if n < 0 { throw SystemError("epoll_wait") }
        for i in 0..<Int(n) { handle(tokens[i], Events(rawValue: masks[i])) }
    }
}

/// An eventfd used as a cross-thread doorbell for a loop (owner of its fd).
final class EventFD: @unchecked Sendable {
    let fd: Int32

    init() throws {
        fd = lr_eventfd_create()
        if fd < 0 { throw SystemError("eventfd") }
    }

    deinit { close(fd) }

    /// Rings the bell; safe from any thread.
    func signal() { _ = lr_eventfd_signal(fd) }
    /// Clears pending rings (the loop calls this when woken).
    func drain() { _ = lr_eventfd_drain(fd) }
}

/// The monotonic clock in nanoseconds.
@inline(__always)
func monotonicNow() -> Nanoseconds { lr_monotonic_ns() }
