#if canImport(Glibc)
import Glibc
#endif
import Essentials
import Logging

/// The one thread that accepts: it owns the listener, admits a connection while fewer than
/// `maxConnections` are open (else hands it over marked for a `503`), and deals connections to
/// the loops round-robin. Stopping closes the listener, so the kernel refuses new connections.
final class Acceptor: @unchecked Sendable {
    private let listener: Listener
    private let loops: [EventLoop]
    private let context: ServerContext
    private let epoll: Epoll
    private let bell: EventFD
    private var thread: NativeThread?
    private var next = 0
    /// At most this many over-limit connections are being answered at once; beyond it they
    /// are closed without an answer (a flood must not cost more than the limit).
    private let maxRejecting = 256
    /// Over-limit connections since the last warning: logged at most once a second, so a flood
    /// does not turn into a flood of log lines.
    private var rejectedSinceLog = 0
    private var lastRejectionLog: Nanoseconds = 0

    init(listener: Listener, loops: [EventLoop], context: ServerContext) throws {
        self.listener = listener
        self.loops = loops
        self.context = context
        epoll = try Epoll(maxEvents: 4)
        bell = try EventFD()
        try epoll.add(bell.fd, events: .read, token: 0)
        try epoll.add(listener.fd, events: .read, token: 1)
    }

    func start() throws {
        thread = try NativeThread(name: "lr-acceptor") { [self] in self.run() }
    }

    /// Stops accepting and closes the listener; returns once the thread has ended.
    func stop() {
        bell.signal()
        thread?.join()
        listener.close()
    }

    private func run() {
        var stopping = false
        while !stopping {
            do {
                try epoll.wait(timeoutMilliseconds: -1) { token, _ in
                    if token == 0 { stopping = true } else { self.acceptAll() }
                }
            } catch {
                context.logger.critical("acceptor failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    private func acceptAll() {
        while true {
            let accepted: (fd: Int32, peer: String)?
            do {
                accepted = try listener.accept()
            } catch {
                // Out of descriptors (EMFILE/ENFILE) and the like: back off briefly instead of
                // spinning on a listener that stays readable.
                context.logger.error("accept failed", metadata: ["error": "\(error)"])
                usleep(10_000)
                return
            }
            guard let (fd, peer) = accepted else { return }
            let limit = context.configuration.maxConnections
            let admitted = context.activeConnections.wrappingAdd(1, ordering: .relaxed).newValue <= limit
            if !admitted {
                context.activeConnections.subtract(1, ordering: .relaxed)
                if context.rejectingConnections.wrappingAdd(1, ordering: .relaxed).newValue > maxRejecting {
                    context.rejectingConnections.subtract(1, ordering: .relaxed)
                    close(fd)
                    continue
                }
                noteRejection(limit: limit)
            }
            loops[next % loops.count].adopt(fd: fd, peer: peer, rejecting: !admitted)
            next &+= 1
        }
    }

    private func noteRejection(limit: Int) {
        rejectedSinceLog += 1
        let now = monotonicNow()
        guard now &- lastRejectionLog >= .seconds(1) else { return }
        context.logger.warning("connection limit reached", metadata: [
            "limit": "\(limit)", "rejected": "\(rejectedSinceLog)",
        ])
        rejectedSinceLog = 0
        lastRejectionLog = now
    }
}
