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
    private let condition = NSCondition()
    private var state: PoolStateMachine<PostgresConnection>
    private let reaper = Reaper()
    /// While the database is away every acquire fails to connect: one line per distinct error
    /// per window, then a count (docs/postgres.md, Logging).
    private let logThrottle = LogThrottle()
    /// The same for the info lines about broken connections being replaced.
    private let brokenThrottle = LogThrottle()

    /// Creates the pool and starts its idle reaper; connections open on demand (see `prewarm`).
    public init(configuration: PostgresConfiguration, settings: Settings = Settings(), logger: Logger) {
        self.configuration = configuration
        self.settings = settings
        self.logger = logger
        self.state = PoolStateMachine(
            limits: .init(
                minConnections: settings.minConnections, maxConnections: settings.maxConnections,
                idleTimeout: settings.idleTimeout))
        let reaper = self.reaper
        let interval = max(0.05, settings.idleTimeout / 2)
        // The thread holds the pool weakly, so dropping the pool stops it (deinit closes).
        let thread = Thread { [weak self] in
            while reaper.sleep(seconds: interval) {
                guard let pool = self else { return }
                pool.expireIdleConnections()
            }
        }
        thread.name = "postgres-pool-reaper"
        thread.start()
    }

    deinit { close() }

    /// Opens `minConnections` now, so that the first requests do not pay for connecting and a
    /// wrong URL fails at startup.
    public func prewarm() throws {
        condition.lock()
        let missing = state.reserveMinimum()
        condition.unlock()
        var firstError: Error?
        for _ in 0..<missing {
            do {
                let connection = try PostgresConnection(configuration: configuration, logger: logger)
                release(connection)
            } catch {
                condition.lock()
                state.connectFailed()
                condition.signal()
                condition.unlock()
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
        isolation: PostgresIsolationLevel = .readCommitted, maxAttempts: Int = 5, bodyBegins: Bool = false,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try withConnection { try $0.withTransaction(isolation: isolation, maxAttempts: maxAttempts, bodyBegins: bodyBegins, body) }
    }

    /// Counts for metrics and tests: (total, idle, lent or opening).
    public var statistics: (total: Int, idle: Int, busy: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (state.totalCount, state.idleCount, state.busyCount)
    }

    /// Closes idle connections now and lent ones when they come back; later acquires throw `closed`.
    public func close() {
        condition.lock()
        let idle = state.close()
        condition.broadcast()
        condition.unlock()
        reaper.stop()
        _ = idle  // dropping the last references closes them (PQfinish in deinit)
    }

    // MARK: - acquire and release

    /// Takes a connection, opening one when a slot is free, waiting up to `acquireTimeout`.
    public func acquire() throws -> PostgresConnection {
        let deadline = Date(timeIntervalSinceNow: settings.acquireTimeout)
        condition.lock()
        while true {
            switch state.acquire() {
            case .use(let connection):
                condition.unlock()
                if connection.checkIdleHealth() { return connection }
                logger.throttled(.info, "replacing broken pooled connection", by: brokenThrottle)
                condition.lock()
                _ = state.release(connection, healthy: false, now: now())
            case .connect:
                condition.unlock()
                return try openReserved()
            case .wait:
                if !condition.wait(until: deadline), Date() >= deadline {
                    condition.unlock()
                    throw PostgresError(
                        code: .acquireTimeout,
                        message: "no connection free within \(settings.acquireTimeout)s (max \(settings.maxConnections))")
                }
            case .closed:
                condition.unlock()
                throw PostgresError(code: .closed, message: "pool is closed")
            }
        }
    }

    /// Gives a connection back; callers of `acquire` must call this exactly once.
    public func release(_ connection: PostgresConnection) {
        if connection.isInTransaction { connection.rollbackIfOpen() }
        let healthy = connection.isUsable && !connection.isInTransaction
        condition.lock()
        let action = state.release(connection, healthy: healthy, now: now())
        condition.signal()
        condition.unlock()
        if case .close = action, !healthy {
            logger.throttled(.info, "discarding broken connection", by: brokenThrottle)
        }
    }

    private func openReserved() throws -> PostgresConnection {
        do {
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            condition.lock()
            let action = state.connected(connection)
            condition.unlock()
            if action != nil { throw PostgresError(code: .closed, message: "pool is closed") }
            logger.settle(logThrottle, level: .warning)
            logger.settle(brokenThrottle, level: .info)
            return connection
        } catch {
            condition.lock()
            state.connectFailed()
            condition.signal()
            condition.unlock()
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
        condition.lock()
        let expired = state.expireIdle(now: now())
        condition.unlock()
        if !expired.isEmpty {
            logger.debug("closed idle connections", metadata: ["count": "\(expired.count)"])
        }
    }
}

/// The reaper thread's sleep, cut short by `stop()`.
private final class Reaper: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    /// Sleeps up to `seconds`; false once stopped.
    func sleep(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if !stopped { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
        return !stopped
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
