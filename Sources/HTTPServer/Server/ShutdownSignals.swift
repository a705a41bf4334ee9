#if canImport(Glibc)
import Glibc
#endif
private import CSystemShims

/// SIGTERM/SIGINT as readable events (signalfd): no work ever runs in a signal handler.
/// Create it on the main thread BEFORE starting the server, so every thread the server starts
/// inherits the blocked mask and the signals are delivered only here.
public final class ShutdownSignals: @unchecked Sendable {
    private let fd: Int32

    /// Blocks SIGTERM and SIGINT for this thread (and threads started later), ignores SIGPIPE.
    public init() throws {
        fd = lr_shutdown_signalfd()
        if fd < 0 { throw SystemError("signalfd") }
    }

    deinit { close(fd) }

    /// Waits for SIGTERM or SIGINT and returns its number.
    public func wait() -> Int32 {
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&pfd, 1, -1)
            if rc < 0 && errno != EINTR { return -1 }
            let signal = lr_signalfd_read(fd)
            if signal != 0 { return signal }
        }
    }
}
