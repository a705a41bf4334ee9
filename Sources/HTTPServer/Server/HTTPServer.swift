import Essentials
import Logging

/// An HTTP/1.1 server: one acceptor thread, `eventLoopCount` epoll loops, and a bounded worker
/// pool for handlers. Create it with a router, `start()` it, and `shutdown()` +
/// `waitUntilStopped()` to stop gracefully.
public final class HTTPServer: @unchecked Sendable {
    private enum State { case idle, running, stopping, stopped }

    /// The configuration the server was created with.
    public let configuration: HTTPServerConfiguration
    private let router: HTTPRouter
    private let logger: Logger
    private let state = ConditionLocked(State.idle)
    private var acceptor: Acceptor?
    private var loops: [EventLoop] = []
    private var pool: WorkerPool?
    private var boundPort: Int?
    private var reaper: NativeThread?

    /// A server answering with `router`'s handlers; nothing is bound until `start()`.
    public init(configuration: HTTPServerConfiguration, router: HTTPRouter, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
    }

    /// The bound port (the real one when 0 was configured); `nil` before `start()`.
    public var port: Int? { state.withLock { _ in boundPort } }

    /// Binds the listener and starts the threads. Throws when the address cannot be bound or
    /// the TLS certificate/key cannot be loaded; nothing is left running then.
    public func start() throws {
        try state.withLock { state in
            precondition(state == .idle, "HTTPServer.start() called twice")
            SocketIO.ignoreSIGPIPE()
            let tls = try configuration.tls.map { try TLSContext(configuration: $0) }
            let listener = try Listener(host: configuration.host, port: configuration.port)
            let pool = WorkerPool(threadCount: configuration.workerThreads, queueDepth: configuration.workerQueueDepth)
            let context = ServerContext(configuration: configuration, router: router, logger: logger, pool: pool, tls: tls)
            let loops = try (0..<max(1, configuration.eventLoopCount)).map { try EventLoop(index: $0, context: context) }
            let acceptor = try Acceptor(listener: listener, loops: loops, context: context)
            try pool.start()
            for loop in loops { try loop.start() }
            try acceptor.start()
            self.pool = pool
            self.loops = loops
            self.acceptor = acceptor
            self.boundPort = listener.port
            state = .running
            logger.info("listening", metadata: [
                "host": "\(configuration.host)", "port": "\(listener.port)",
                "tls": "\(tls != nil)", "loops": "\(loops.count)", "workers": "\(configuration.workerThreads)",
            ])
        }
    }

    /// Begins a graceful stop and returns at once: no new connections, idle ones closed,
    /// requests in flight answered (with `Connection: close`) until `shutdownGracePeriod` runs
    /// out, then everything is closed. Safe to call more than once, from any thread.
    public func shutdown() {
        let (acceptor, loops, pool): (Acceptor?, [EventLoop], WorkerPool?) = state.withLock { state in
            guard state == .running else { return (nil, [], nil) }
            state = .stopping
            return (self.acceptor, self.loops, self.pool)
        }
        guard let acceptor, let pool else { return }
        logger.info("shutting down", metadata: ["grace_seconds": "\(configuration.shutdownGracePeriod)"])
        let deadline = monotonicNow() &+ .seconds(configuration.shutdownGracePeriod)
        acceptor.stop()
        for loop in loops { loop.beginShutdown(deadline: deadline) }
        do {
            reaper = try NativeThread(name: "lr-shutdown") { [self] in
                for loop in loops { loop.join() }
                pool.shutdown(deadline: deadline &+ .seconds(1))
                state.withLock { $0 = .stopped }
                state.broadcast()
                logger.info("stopped")
            }
        } catch {
            for loop in loops { loop.join() }
            pool.shutdown(deadline: deadline)
            state.withLock { $0 = .stopped }
            state.broadcast()
        }
    }

    /// Blocks until a `shutdown()` has completed (returns at once if never started).
    public func waitUntilStopped() {
        state.withLock(when: { $0 != .running && $0 != .stopping }) { _ in }
        reaper?.join()
    }
}
