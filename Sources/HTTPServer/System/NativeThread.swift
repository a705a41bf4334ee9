#if canImport(Glibc)
import Glibc
#endif
private import CSystemShims

/// A joinable pthread running a closure. Event loops and workers are long-lived threads of
/// their own (never the Swift concurrency pool), because they block in epoll_wait or in handlers.
final class NativeThread: @unchecked Sendable {
    private var handle: pthread_t
    private var joined = false

    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    /// Starts a thread named `name` (visible in `top -H`, truncated to 15 bytes) running `body`.
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Box({
            lr_set_thread_name(name)
            body()
        }))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        if rc != 0 {
            box.release()
            throw SystemError("pthread_create", errno: rc)
        }
        handle = tid
    }

    /// Waits for the thread to finish (once).
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }

    /// Whether the caller runs on this thread.
    var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }
}
