import Essentials
import Logging

/// One event-loop thread: an epoll set of connections plus a doorbell (eventfd) through which
/// the acceptor hands over sockets and workers hand back answers. Never blocks except in
/// epoll_wait; all socket work is non-blocking.
final class EventLoop: @unchecked Sendable {
    let index: Int
    let context: ServerContext
    let epoll: Epoll
    private let bell: EventFD
    /// A plain pthread mutex: it sleeps at once when contended (Synchronization.Mutex spins,
    /// which on a busy machine burns the very CPU the lock holder needs).
    private let inbox = Locked(Inbox())
    var connections: [UInt64: Connection] = [:]
    var nextToken: UInt64 = 1
    let requestIDs = RequestIDGenerator()
    let readBuffer: UnsafeMutableRawBufferPointer
    private var drainDeadline: Nanoseconds?
    private var nextSweep: Nanoseconds = 0
    private var thread: NativeThread?
    /// Requests parsed during this loop turn, submitted together at its end.
    var pendingDispatches: [PendingDispatch] = []
    /// Reused action list (see `drive`).
    var scratchActions: [ConnectionStateMachine.Action] = []

    struct PendingDispatch {
        let token: UInt64
        let slot: UInt64
        let request: HTTPRequest
        let handler: HTTPHandler
    }

    private struct Inbox {
        var rung = false
        var adopted: [(fd: Int32, peer: String, rejecting: Bool)] = []
        var completions: [(token: UInt64, slot: UInt64, response: HTTPResponse)] = []
        var drainDeadline: Nanoseconds?
    }

    private static let bellToken: UInt64 = 0

    init(index: Int, context: ServerContext) throws {
        self.index = index
        self.context = context
        epoll = try Epoll()
        bell = try EventFD()
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        try epoll.add(bell.fd, events: .read, token: Self.bellToken)
    }

    deinit {
        readBuffer.deallocate()
    }

    func start() throws {
        thread = try NativeThread(name: "lr-loop-\(index)") { [self] in self.run() }
    }

    func join() { thread?.join() }

    // MARK: - From other threads

    /// Hands an accepted socket to this loop.
    func adopt(fd: Int32, peer: String, rejecting: Bool) {
        ring { $0.adopted.append((fd, peer, rejecting)) }
    }

    /// A worker's answer for request `slot` on connection `token`.
    func deliver(token: UInt64, slot: UInt64, response: HTTPResponse) {
        ring { $0.completions.append((token, slot, response)) }
    }

    /// Starts draining: idle connections close now, busy ones by `deadline` at the latest,
    /// then the thread ends.
    func beginShutdown(deadline: Nanoseconds) {
        ring { $0.drainDeadline = deadline }
    }

    private func ring(_ update: (inout Inbox) -> Void) {
        let wasRung = inbox.withLock { inbox -> Bool in
            update(&inbox)
            defer { inbox.rung = true }
            return inbox.rung
        }
        if !wasRung { bell.signal() }
    }

    // MARK: - The loop

    private func run() {
        let sweepInterval = context.sweepInterval
        nextSweep = monotonicNow() &+ sweepInterval
        while true {
            let timeout = Int32(max(1, sweepInterval / 1_000_000))
            var bellRang = false
            do {
                try epoll.wait(timeoutMilliseconds: timeout) { token, events in
                    if token == Self.bellToken { bellRang = true } else { self.handle(token: token, events: events) }
                }
            } catch {
                context.logger.critical("event loop failed", metadata: ["loop": "\(index)", "error": "\(error)"])
                break
            }
            if bellRang { takeInbox() }
            submitDispatches()
            let now = monotonicNow()
            if now >= nextSweep {
                nextSweep = now &+ sweepInterval
                sweep(now: now)
            }
            if let deadline = drainDeadline {
                if connections.isEmpty { break }
                if now >= deadline {
                    for connection in Array(connections.values) { finish(connection) }
                    break
                }
            }
        }
        for connection in Array(connections.values) { finish(connection) }
    }

    private func takeInbox() {
        bell.drain()
        let box = inbox.withLock { inbox -> Inbox in
            let taken = inbox
            inbox = Inbox()
            return taken
        }
        let now = monotonicNow()
        for item in box.adopted { open(fd: item.fd, peer: item.peer, rejecting: item.rejecting, now: now) }
        for item in box.completions {
            guard let connection = connections[item.token] else { continue }
            drive(connection, now: now) { $0.complete(slot: item.slot, response: item.response, now: now, into: &$1) }
            if connection.machine.wantsRead && connection.hasBufferedInput { readable(connection, now: now) }
        }
        if let deadline = box.drainDeadline, drainDeadline == nil {
            drainDeadline = deadline
            for connection in Array(connections.values) {
                drive(connection, now: now) { $0.beginDrain(now: now, into: &$1) }
            }
        }
    }

    private func sweep(now: Nanoseconds) {
        for connection in Array(connections.values) {
            if let deadline = connection.lingerDeadline {
                if now >= deadline { finish(connection) }
                continue
            }
            drive(connection, now: now) { $0.tick(now: now, outputPending: connection.hasPendingOutput, into: &$1) }
        }
    }
}

extension EventLoop {
    /// A fresh epoll token (0 is the doorbell).
    func takeToken() -> UInt64 {
        defer { nextToken &+= 1 }
        return nextToken
    }
}
