#if canImport(Glibc)
import Glibc
#endif

extension NativeThread {
    /// Lowers the calling thread's CPU priority by `niceness` (Linux keeps a nice value per
    /// thread, and `setpriority(PRIO_PROCESS, 0, …)` sets the caller's): for background work
    /// that must leave the cores to request handling when both want them, such as a backtest
    /// while ingest serves. Best effort; a thread cannot raise its priority back without
    /// privileges, so call it only on a thread that ends with the work.
    public static func lowerCurrentPriority(by niceness: Int32) {
        #if canImport(Glibc)
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        guard errno == 0 else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, current + niceness))
        #endif
    }
}
