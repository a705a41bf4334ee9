import Essentials
import Foundation
internal import CLibPQ
import Logging

/// One NOTIFY as received: channel, payload and the sending backend.
public struct PostgresNotification: Sendable, Equatable {
    /// The channel as passed to NOTIFY.
    public var channel: String
    /// The payload (empty when none was sent).
    public var payload: String
    /// The backend that sent it.
    public var senderPID: Int32
}

/// LISTEN/NOTIFY on a dedicated connection, served by one thread that sleeps in `poll()` on the
/// connection's socket (and a wake pipe), never in a sleep loop.
///
/// Each notification goes to every handler subscribed to its channel, called on the listener's
/// thread (keep handlers short; hand real work to a queue). When the connection breaks, the
/// thread reconnects with exponential backoff and LISTENs to every channel again; notifications
/// sent while it was disconnected are lost, as PostgreSQL does not keep them — treat a
/// notification as a hint to look at the tables, not as the data.
public final class PostgresListener: @unchecked Sendable {
    /// Identifies a subscription for `unsubscribe`.
    public struct Subscription: Hashable, Sendable {
        let id: Int
        let channel: String
    }

    /// Called on the listener thread for each notification of a channel.
    public typealias Handler = @Sendable (PostgresNotification) -> Void

    let configuration: PostgresConfiguration
    let logger: Logger
    let initialBackoff: Double
    let maxBackoff: Double
    private let wakePipe: WakePipe
    private let state = ConditionLocked(State())
    /// Reconnect failures during an outage: one line per distinct error per window, then a count.
    private let logThrottle = LogThrottle()

    private struct State {
        var handlers: [String: [Int: Handler]] = [:]
        var nextID = 0
        var stopped = false
        var started = false
        var finished = false
        var generation = 0
        var currentPID: Int32?
    }

    /// A listener that is not running yet; subscribe, then `start()`.
    public init(
        configuration: PostgresConfiguration, logger: Logger, initialBackoff: Double = 0.05,
        maxBackoff: Double = 5
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.wakePipe = try WakePipe()
    }

    /// Calls `handler` for every notification on `channel` (exact, case-sensitive name). Works
    /// before and after `start()`; the first handler of a channel makes the thread LISTEN to it.
    @discardableResult
    public func subscribe(_ channel: String, _ handler: @escaping Handler) -> Subscription {
        let id = state.withLock { s in
            s.nextID += 1
            s.handlers[channel, default: [:]][s.nextID] = handler
            return s.nextID
        }
        wakePipe.wake()
        return Subscription(id: id, channel: channel)
    }

    /// Removes a handler; the last one of a channel makes the thread UNLISTEN.
    public func unsubscribe(_ subscription: Subscription) {
        state.withLock { s in
            s.handlers[subscription.channel]?[subscription.id] = nil
            if s.handlers[subscription.channel]?.isEmpty == true { s.handlers[subscription.channel] = nil }
        }
        wakePipe.wake()
    }

    /// Starts the listener thread (once).
    public func start() {
        let first = state.withLock { s -> Bool in
            guard !s.started, !s.stopped else { return false }
            s.started = true
            return true
        }
        // Not joined: `stop` waits for the thread only up to its timeout.
        if first { NativeThread.start(name: "lr-pg-listen") { self.run() } }
    }

    /// Stops the thread and closes its connection; waits up to `timeout` seconds for it to end.
    public func stop(timeout: Double = 5) {
        let wasRunning = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return s.started && !s.stopped
        }
        state.broadcast()
        wakePipe.wake()
        if wasRunning { state.withLock(when: { $0.finished }, timeout: timeout) { _, _ in } }
    }

    /// How many times the listener has connected and LISTENed (1 after start, +1 per reconnect).
    public var connectionGeneration: Int {
        state.withLock { $0.generation }
    }

    /// The backend serving the listener right now, if connected.
    public var backendPID: Int32? {
        state.withLock { $0.currentPID }
    }

    /// Waits until the listener has connected (and LISTENed) at least `generation` times.
    public func waitUntilListening(generation wanted: Int = 1, timeout: Double) -> Bool {
        state.withLock(when: { $0.generation >= wanted }, timeout: timeout) { _, listening in listening }
    }

    // MARK: - the thread

    private var isStopped: Bool {
        state.withLock { $0.stopped }
    }

    private func run() {
        defer {
            state.withLock { $0.finished = true }
            state.broadcast()
        }
        var backoff = initialBackoff
        while !isStopped {
            do {
                let conn = try PostgresConnection(configuration: configuration, logger: logger)
                backoff = initialBackoff
                logger.settle(logThrottle, level: .warning)
                try serve(conn)
            } catch {
                logger.throttled(.warning, "listener connection lost", error: error, by: logThrottle,
                                 metadata: ["retry_in": "\(backoff)"])
            }
            state.withLock { $0.currentPID = nil }
            if isStopped { return }
            waitForWake(seconds: backoff)
            backoff = min(backoff * 2, maxBackoff)
        }
    }

    /// LISTENs to every channel, then waits on the socket until the connection breaks or stop.
    private func serve(_ conn: PostgresConnection) throws {
        var listening = Set<String>()
        try syncChannels(conn, &listening)
        state.withLock { s in
            s.generation += 1
            s.currentPID = conn.backendPID
        }
        state.broadcast()
        let socket = PQsocket(conn.handle.raw)
        while true {
            deliverPending(conn)
            var fds = [
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PostgresError(code: .connectionLost, message: "poll failed", errno: errno)
            }
            if fds[1].revents != 0 {
                wakePipe.drain()
                if isStopped { return }
                try syncChannels(conn, &listening)
            }
            if fds[0].revents != 0 {
                guard PQconsumeInput(conn.handle.raw) == 1, conn.isUsable else {
                    throw PostgresError(code: .connectionLost, message: conn.handle.errorMessage)
                }
            }
        }
    }

    /// Brings the connection's LISTEN set in line with the subscribed channels.
    private func syncChannels(_ conn: PostgresConnection, _ listening: inout Set<String>) throws {
        let wanted = state.withLock { Set($0.handlers.keys) }
        for channel in wanted.subtracting(listening) {
            try conn.executeScript(unsafeSQL: "LISTEN " + Self.quoteIdentifier(channel))
            listening.insert(channel)
        }
        for channel in listening.subtracting(wanted) {
            try conn.executeScript(unsafeSQL: "UNLISTEN " + Self.quoteIdentifier(channel))
            listening.remove(channel)
        }
    }

    /// Hands every notification libpq has buffered to its channel's handlers.
    private func deliverPending(_ conn: PostgresConnection) {
        while let raw = PQnotifies(conn.handle.raw) {
            let notification = PostgresNotification(
                channel: String(cString: raw.pointee.relname), payload: String(cString: raw.pointee.extra),
                senderPID: raw.pointee.be_pid)
            PQfreemem(raw)
            let targets = state.withLock { $0.handlers[notification.channel].map { Array($0.values) } ?? [] }
            for handler in targets { handler(notification) }
        }
    }

    private func waitForWake(seconds: Double) {
        var fd = pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&fd, 1, Int32(seconds * 1000))
        wakePipe.drain()
    }

    /// `"name"` with embedded quotes doubled: any channel name is a valid identifier this way.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension PostgresConnection {
    /// Sends a notification (`pg_notify`); delivered when the current transaction commits.
    public func notify(channel: String, payload: String = "") throws {
        try query("SELECT pg_notify(\(channel), \(payload))")
    }
}
