/// The pool's bookkeeping as a pure state machine: it decides, the pool carries out.
///
/// Generic over the connection type so it can be tested with plain values, without a database.
/// Time comes in as an argument (seconds on any monotonic clock). The pool holds a lock around
/// every call, and performs the returned actions (connect, close, wait) outside that lock.
public struct PoolStateMachine<Connection> {
    /// Limits the machine enforces.
    public struct Limits: Sendable {
        /// Connections kept even when idle.
        public var minConnections: Int
        /// Connections never exceeded; further acquirers wait.
        public var maxConnections: Int
        /// Idle connections beyond `minConnections` are closed after this many seconds.
        public var idleTimeout: Double

        /// Limits with `0 <= min <= max` and `max >= 1` (clamped).
        public init(minConnections: Int, maxConnections: Int, idleTimeout: Double) {
            self.maxConnections = max(1, maxConnections)
            self.minConnections = min(max(0, minConnections), self.maxConnections)
            self.idleTimeout = idleTimeout
        }
    }

    /// What the caller of `acquire` must do next.
    public enum AcquireAction {
        /// Use this idle connection (after checking its health; see `discard`).
        case use(Connection)
        /// A slot is reserved: open a connection, then call `connected` or `connectFailed`.
        case connect
        /// Every slot is busy: wait for a release, then call `acquire` again.
        case wait
        /// The pool is shut down.
        case closed
    }

    /// What the caller of `release` must do next.
    public enum ReleaseAction {
        /// The connection went back to the idle list; wake one waiter.
        case keep
        /// Close this connection (broken, or pool shut down); a slot is free, wake one waiter.
        case close(Connection)
    }

    private struct Idle {
        var connection: Connection
        var since: Double
    }

    /// The limits this machine was made with.
    public let limits: Limits
    private var idle: [Idle] = []
    /// Connections lent out plus connections being opened.
    private(set) public var busyCount = 0
    private(set) public var isClosed = false

    /// A machine with no connections yet.
    public init(limits: Limits) { self.limits = limits }

    /// Every connection the pool currently accounts for.
    public var totalCount: Int { busyCount + idle.count }
    /// Connections waiting in the idle list.
    public var idleCount: Int { idle.count }

    /// Lends the most recently used idle connection (warm caches), or reserves a slot to open one.
    public mutating func acquire() -> AcquireAction {
        if isClosed { return .closed }
        if let last = idle.popLast() {
            busyCount += 1
            return .use(last.connection)
        }
        if totalCount < limits.maxConnections {
            busyCount += 1
            return .connect
        }
        return .wait
    }

    /// A reserved slot now holds a new, lent-out connection; nothing to do unless shut down.
    public mutating func connected(_ connection: Connection) -> ReleaseAction? {
        if isClosed {
            busyCount -= 1
            return .close(connection)
        }
        return nil
    }

    /// Opening a connection failed: its slot is free again.
    public mutating func connectFailed() { busyCount -= 1 }

    /// A lent connection came back; `healthy` is false when it broke or is in an unknown state.
    public mutating func release(_ connection: Connection, healthy: Bool, now: Double) -> ReleaseAction {
        busyCount -= 1
        if !healthy || isClosed { return .close(connection) }
        idle.append(Idle(connection: connection, since: now))
        return .keep
    }

    /// Connections idle for longer than the timeout, oldest first, as long as `min` remain.
    public mutating func expireIdle(now: Double) -> [Connection] {
        var expired: [Connection] = []
        // The idle list is ordered by release time: the oldest are at the front.
        while let oldest = idle.first, totalCount > limits.minConnections,
            now - oldest.since >= limits.idleTimeout
        {
            expired.append(idle.removeFirst().connection)
        }
        return expired
    }

    /// How many connections to open so that `min` are there (they are reserved as busy; release
    /// each with `release(_:healthy:now:)` once opened).
    public mutating func reserveMinimum() -> Int {
        guard !isClosed else { return 0 }
        let missing = max(0, limits.minConnections - totalCount)
        busyCount += missing
        return missing
    }

    /// Shuts the pool: returns the idle connections to close; lent ones close on release.
    public mutating func close() -> [Connection] {
        isClosed = true
        let all = idle.map(\.connection)
        idle.removeAll()
        return all
    }
}
