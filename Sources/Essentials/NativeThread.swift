#if canImport(Glibc)
import Glibc
#endif

/// A joinable, named pthread running a closure: the one way leadrouter starts a thread (event
/// loops, HTTP workers, group-commit lanes, webhook workers, periodic jobs). Long-lived threads
/// of their own, never the Swift concurrency pool, because they block (epoll_wait, handlers,
/// libpq). Join every thread started, or it stays a zombie until the process ends.
public final class NativeThread: @unchecked Sendable {
    private var handle: pthread_t
    private var joined = false

    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    /// `pthread_create` failed.
    public struct StartError: Error, CustomStringConvertible, Sendable {
        /// What `pthread_create` returned.
        public var errno: Int32
        /// `pthread_create: strerror (errno N)`.
        public var description: String { "pthread_create: \(String(cString: strerror(errno))) (errno \(errno))" }
    }

    /// Starts a thread named `name` (visible in `top -H`, truncated to 15 bytes) running `body`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Box({
            NativeThread.setCurrentName(name)
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
            throw StartError(errno: rc)
        }
        handle = tid
    }

    /// A thread nobody joins is detached when its handle goes, so it leaves nothing behind.
    deinit { if !joined { pthread_detach(handle) } }

    /// Starts a thread where failing to is not recoverable (as `Foundation.Thread.start()`).
    @discardableResult
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> NativeThread {
        do { return try NativeThread(name: name, body) } catch { fatalError("\(name): \(error)") }
    }

    /// Waits for the thread to finish (once).
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }

    /// Whether the caller runs on this thread.
    public var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    /// `pthread_setname_np`, which the Glibc module does not export (a GNU extension); looked
    /// up once, so `Essentials` needs no C target.
    private static let setName: SetName? = dlsym(nil, "pthread_setname_np")
        .map { unsafeBitCast($0, to: SetName.self) }

    private static func setCurrentName(_ name: String) {
        // The kernel keeps 15 bytes and a NUL; a longer name makes pthread_setname_np fail.
        var cut = Array(name.utf8.prefix(15))
        cut.append(0)
        cut.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = setName?(pthread_self(), $0.baseAddress!) }
        }
    }
}
