import Essentials
import Foundation
import Logging

/// A thread-safe pool of `PostgresConnection`s with min/max size, acquire timeout, idle timeout,
/// and replacement of connections that broke (server restart, `pg_terminate_backend`).
///
/// Blocking: `withConnection` waits up to `acquireTimeout` for a free connection and then throws
/// `acquireTimeout`; it never hangs. Decisions are made by `PoolStateMachine`.
public final class PostgresPool: @unchecked Sendable {
    /// Pool limits; every wait is bounded.
    public struct Settings: Sendable {
        /// Connections kept open even when idle.
        public var minConnections: Int
        /// The most connections the pool opens.
        public var maxConnections: Int
        /// Seconds `withConnection` waits for a free connection before throwing `acquireTimeout`.
        public var acquireTimeout: Double
        /// Seconds an idle connection above `minConnections` is kept before it is closed.
        public var idleTimeout: Double

        /// Defaults fit one service node: 2…16 connections, 5 s to acquire, 5 min idle.
        public init(
            minConnections: Int = 2, maxConnections: Int = 16, acquireTimeout: Double = 5,
            idleTimeout: Double = 300
        ) {
            self.minConnections = minConnections
            self.maxConnections = maxConnections
            self.acquireTimeout = acquireTimeout
            self.idleTimeout = idleTimeout
        }
    }

    /// How each connection is opened.
    public let configuration: PostgresConfiguration
    /// The limits in force.
    public let settings: Settings
    let logger: Logger
    private let state: ConditionLocked<PoolStateMachine<PostgresConnection>>
    /// Closes connections idle beyond the idle timeout, every half idle timeout.
    private let reaper: PeriodicJob
    /// While the database is away every acquire fails to connect: one line per distinct error
    /// per window, then a count (docs/postgres.md, Logging).
    private let logThrottle = LogThrottle()
    /// The same for the info lines about broken connections being replaced.
    private let brokenThrottle = LogThrottle()
    private let waitTotals = Locked(PoolWaits())

    /// Acquires that had to wait for a connection so far (counted only when one waited).
    public var waits: PoolWaits { waitTotals.withLock { $0 } }

    /// Creates the pool and starts its idle reaper; connections open on demand (see `prewarm`).
    public init(configuration: PostgresConfiguration, settings: Settings = Settings(), logger: Logger) {
        self.configuration = configuration
        self.settings = settings
        self.logger = logger
        self.state = ConditionLocked(PoolStateMachine(
            limits: .init(
                minConnections: settings.minConnections, maxConnections: settings.maxConnections,
                idleTimeout: settings.idleTimeout)))
        reaper = PeriodicJob(name: "lr-pg-reaper", interval: max(0.05, settings.idleTimeout / 2))
        // The thread holds the pool weakly, so dropping the pool stops it (deinit closes).
        reaper.start(pauseFirst: true) { [weak self] in
            guard let pool = self else { return .finish }
            pool.expireIdleConnections()
            return .pause
        }
    }

    deinit { close() }

    /// Opens `minConnections` now, so that the first requests do not pay for connecting and a
    /// wrong URL fails at startup.
    public func prewarm() throws {
        let missing = state.withLock { $0.reserveMinimum() }
        var firstError: Error?
        for _ in 0..<missing {
            do {
                let connection = try PostgresConnection(configuration: configuration, logger: logger)
                release(connection)
            } catch {
                state.withLock { $0.connectFailed() }
                state.signal()
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Lends a connection to `body` and takes it back afterwards, also when `body` throws.
    /// A connection left inside a transaction is rolled back; a broken one is replaced.
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        defer { release(connection) }
        return try body(connection)
    }

    /// Runs one statement on a pooled connection. With `retryOnConnectionLoss` (use it only for
    /// statements that are safe to run twice, such as reads) a statement that failed because its
    /// connection broke is run once more on a fresh connection.
    @discardableResult
    public func query(_ query: PostgresQuery, retryOnConnectionLoss: Bool = false) throws -> PostgresRows {
        do {
            return try withConnection { try $0.query(query) }
        } catch let error as PostgresError where retryOnConnectionLoss && error.code == .connectionLost {
            logger.info("retrying statement after connection loss", metadata: ["error": "\(error)"])
            return try withConnection { try $0.query(query) }
        }
    }

    /// `PostgresConnection.withTransaction` on a pooled connection.
    @discardableResult
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, maxAttempts: Int = 5,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try withConnection { try $0.withTransaction(isolation: isolation, maxAttempts: maxAttempts, body) }
    }

    /// `PostgresConnection.withPipelinedTransaction` on a pooled connection.
    @discardableResult
    public func withPipelinedTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, maxAttempts: Int = 5,
        _ body: (PostgresTransaction) throws -> T
    ) throws -> T {
        try withConnection { try $0.withPipelinedTransaction(isolation: isolation, maxAttempts: maxAttempts, body) }
    }

    /// Counts for metrics and tests: (total, idle, lent or opening).
    public var statistics: (total: Int, idle: Int, busy: Int) {
        state.withLock { ($0.totalCount, $0.idleCount, $0.busyCount) }
    }

    /// Closes idle connections now and lent ones when they come back; later acquires throw `closed`.
    public func close() {
        let idle = state.withLock { $0.close() }
        state.broadcast()
        reaper.requestStop()  // not stop(): the last reference may be dropped on the reaper's own tick
        _ = idle  // dropping the last references closes them (PQfinish in deinit)
    }

    // MARK: - acquire and release

    /// Takes a connection, opening one when a slot is free, waiting up to `acquireTimeout`.
    public func acquire() throws -> PostgresConnection {
        let deadline = MonotonicClock.deadline(after: settings.acquireTimeout)
        while true {
            // `.wait` here means the deadline passed.
            var waitStarted: UInt64?
            let action = state.withCondition { held -> PoolStateMachine<PostgresConnection>.AcquireAction in
                while true {
                    let action = held.value.acquire()
                    guard case .wait = action else { return action }
                    if waitStarted == nil { waitStarted = MonotonicClock.nanoseconds() }
                    if !held.wait(deadline: deadline), MonotonicClock.nanoseconds() >= deadline { return .wait }
                }
            }
            if let waitStarted {
                let waited = Duration.nanoseconds(Int64(MonotonicClock.nanoseconds() &- waitStarted))
                let timedOut = if case .wait = action { true } else { false }
                waitTotals.withLock { $0.waits += 1; $0.waited += waited; if timedOut { $0.timeouts += 1 } }
            }
            switch action {
            case .use(let connection):
                if connection.checkIdleHealth() { return connection }
                logger.throttled(.info, "replacing broken pooled connection", by: brokenThrottle)
                let now = now()
                _ = state.withLock { $0.release(connection, healthy: false, now: now) }
            case .connect:
                return try openReserved()
            case .wait:
                throw PostgresError(
                    code: .acquireTimeout,
                    message: "no connection free within \(settings.acquireTimeout)s (max \(settings.maxConnections))")
            case .closed:
                throw PostgresError(code: .closed, message: "pool is closed")
            }
        }
    }

    /// Gives a connection back; callers of `acquire` must call this exactly once.
    public func release(_ connection: PostgresConnection) {
        if connection.isInTransaction { connection.rollbackIfOpen() }
        let healthy = connection.isUsable && !connection.isInTransaction
        let now = now()
        let action = state.withLock { $0.release(connection, healthy: healthy, now: now) }
        state.signal()
        if case .close = action, !healthy {
            logger.throttled(.info, "discarding broken connection", by: brokenThrottle)
        }
    }

    private func openReserved() throws -> PostgresConnection {
        do {
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            let action = state.withLock { $0.connected(connection) }
            if action != nil { throw PostgresError(code: .closed, message: "pool is closed") }
            logger.settle(logThrottle, level: .warning)
            logger.settle(brokenThrottle, level: .info)
            return connection
        } catch {
            state.withLock { $0.connectFailed() }
            state.signal()
            if (error as? PostgresError)?.code != .closed {
                logger.throttled(.warning, "cannot open a database connection", error: error, by: logThrottle)
            }
            throw error
        }
    }

    private func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// Closes connections idle for longer than the idle timeout (called by the reaper thread).
    func expireIdleConnections() {
        let now = now()
        let expired = state.withLock { $0.expireIdle(now: now) }
        if !expired.isEmpty {
            logger.debug("closed idle connections", metadata: ["count": "\(expired.count)"])
        }
    }
}
