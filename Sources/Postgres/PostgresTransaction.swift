import Foundation

/// The isolation level a transaction starts with.
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// One transaction on one connection, and the only code that sends its BEGIN and COMMIT.
///
/// Statements are added to the next round trip (`add`), each returning a handle whose result is
/// read after that round trip (`handle.get()`); `send()` makes the round trip. The transaction's
/// BEGIN goes out in its first round trip, in front of whatever was added, and its COMMIT in the
/// round trip after the body of `withPipelinedTransaction` returned, behind whatever the body
/// added and did not send — so a transaction that reads, decides and writes costs two round
/// trips. Made by `PostgresConnection.withPipelinedTransaction` (and `withTransaction`), which
/// also roll it back on any error.
///
/// Statements may also run directly on `connection` once the transaction has begun; before that
/// they would run outside it, so they throw instead. Not thread-safe, like the connection.
public final class PostgresTransaction {
    /// Where the transaction stands.
    public enum State: Sendable, Equatable {
        /// Nothing sent yet (BEGIN goes out with the first round trip).
        case notBegun
        /// BEGIN was sent.
        case open
        /// COMMIT succeeded.
        case committed
        /// Rolled back (or never begun and abandoned): nothing of it is in the database.
        case rolledBack
        /// The connection broke during the round trip that carried COMMIT: it may have committed.
        case commitOutcomeUnknown
    }

    /// The connection the transaction runs on.
    public let connection: PostgresConnection
    /// The isolation level its BEGIN asks for.
    public let isolation: PostgresIsolationLevel
    /// Where the transaction stands.
    public private(set) var state: State = .notBegun
    /// Round trips this transaction made itself (its BEGIN and COMMIT included; statements run
    /// directly on `connection` are not counted).
    public private(set) var roundTrips = 0
    private var queued: [PostgresQuery] = []
    private var round = PostgresRoundTrip()

    init(connection: PostgresConnection, isolation: PostgresIsolationLevel) {
        self.connection = connection
        self.isolation = isolation
        connection.transactionAwaitingBegin = true
        connection.transactionObjectOpen = true
        connection.commitFlushDeferred = false
    }

    /// Adds a statement to the next round trip; its rows are read from the handle after it.
    @discardableResult
    public func add(_ query: PostgresQuery) -> PostgresResultHandle<PostgresRows> {
        add(query) { $0 }
    }

    /// Adds a statement to the next round trip; its rows, decoded by `decode`, are read from the
    /// handle after it (`decode` runs when the handle is read).
    public func add<Value>(_ query: PostgresQuery, decode: @escaping (PostgresRows) throws -> Value) -> PostgresResultHandle<Value> {
        queued.append(query)
        return PostgresResultHandle(round: round, index: queued.count - 1, decode: decode)
    }

    /// Adds statements whose results nobody reads (writes) to the next round trip.
    public func add(contentsOf queries: [PostgresQuery]) {
        queued.append(contentsOf: queries)
    }

    /// Makes one round trip: BEGIN if the transaction has not begun, then everything added since
    /// the last round trip. Begun and nothing added: no round trip.
    public func send() throws {
        guard state == .notBegun || state == .open else { throw finished() }
        if state == .open && queued.isEmpty { return }
        try roundTrip(commit: false)
    }

    /// Commits: everything added and not sent, then COMMIT, in one round trip (with BEGIN in
    /// front when the transaction has not begun). Nothing ever sent: nothing to commit, no round
    /// trip. A connection lost during this round trip throws `commitOutcomeUnknown`. When the
    /// transaction deferred its flush (`deferCommitFlush`), one more round trip waits for the
    /// disk; a failure there throws `commitOutcomeUnknown` too (committed, durability unknown).
    func commit() throws {
        guard state == .notBegun || state == .open else { throw finished() }
        let deferred = connection.commitFlushDeferred
        connection.transactionObjectOpen = false
        connection.commitFlushDeferred = false
        if state == .notBegun && queued.isEmpty {
            connection.transactionAwaitingBegin = false
            state = .committed
            return
        }
        try roundTrip(commit: true)
        guard deferred else { return }
        do {
            roundTrips += 1
            try connection.flushCommitted()
        } catch {
            state = .commitOutcomeUnknown
            connection.markBroken()
            throw PostgresError(code: .commitOutcomeUnknown,
                                message: "committed, but waiting for the commit to reach the disk failed: \(error)")
        }
    }

    /// Rolls back whatever is open (a broken connection is left for the pool to drop).
    func rollback() {
        connection.transactionAwaitingBegin = false
        connection.transactionObjectOpen = false
        connection.commitFlushDeferred = false
        queued = []
        connection.rollbackIfOpen()
        if state != .committed && state != .commitOutcomeUnknown { state = .rolledBack }
    }

    private func roundTrip(commit: Bool) throws {
        let begin = state == .notBegun
        let current = round
        var statements: [PostgresQuery] = []
        statements.reserveCapacity(queued.count + 2)
        if begin {
            statements.append(PostgresQuery(unsafeRaw: Self.beginStatement(isolation)))
            if let timeout = connection.configuration.transactionStatementTimeout {
                statements.append(PostgresQuery(unsafeRaw: Self.statementTimeoutStatement(seconds: timeout)))
            }
        }
        let opening = statements.count
        statements += queued
        if commit { statements.append(PostgresQuery(unsafeRaw: "COMMIT")) }
        let added = queued.count
        queued = []
        round = PostgresRoundTrip()
        connection.transactionAwaitingBegin = false
        // A broken connection sends nothing: the transaction did not commit, whatever the round trip.
        let couldSend = connection.isUsable
        roundTrips += 1
        do {
            if added == 0 {
                // A lone BEGIN (with its SET LOCAL) or COMMIT: one simple-protocol script, nothing
                // to prepare, as cheap as it gets.
                try connection.executeScript(unsafeSQL: statements.map(\.sql).joined(separator: "; "))
            } else {
                current.results = try connection.pipeline(statements)
                current.offset = opening
            }
        } catch let error as PostgresError where commit && couldSend && error.isConnectionError {
            state = .commitOutcomeUnknown
            var unknown = error
            unknown.code = .commitOutcomeUnknown
            unknown.message = "connection lost during COMMIT, the transaction may or may not have committed: \(error.message)"
            throw unknown
        }
        state = commit ? .committed : .open
    }

    private func finished() -> PostgresError {
        PostgresError(code: .protocolViolation, message: "transaction already ended (\(state))")
    }

    /// What follows BEGIN when the configuration sets `transactionStatementTimeout`.
    static func statementTimeoutStatement(seconds: Double) -> String {
        "SET LOCAL statement_timeout = \(max(1, Int((seconds * 1000).rounded(.up))))"
    }

    /// The statement opening a transaction at `isolation`.
    static func beginStatement(_ isolation: PostgresIsolationLevel) -> String {
        "BEGIN ISOLATION LEVEL \(isolation.rawValue)"
    }
}

/// The result of one statement added to a `PostgresTransaction`, read after the round trip that
/// carried it.
public struct PostgresResultHandle<Value> {
    let round: PostgresRoundTrip
    let index: Int
    let decode: (PostgresRows) throws -> Value

    /// The statement's result; throws when its round trip has not run yet or failed.
    public func get() throws -> Value {
        guard let results = round.results else {
            throw PostgresError(code: .protocolViolation, message: "statement result read before its round trip succeeded")
        }
        return try decode(results[round.offset + index])
    }
}

/// The results of one round trip, shared by the handles of its statements.
final class PostgresRoundTrip {
    var results: [PostgresRows]?
    /// Where the added statements' results start (after BEGIN's).
    var offset = 0
}

extension PostgresConnection {
    /// Runs `body` inside `BEGIN … COMMIT`, rolling back when it throws.
    ///
    /// BEGIN is sent (one round trip) before `body` runs on the connection, COMMIT after it
    /// returned; both by a `PostgresTransaction`. A serialization failure (40001) or deadlock
    /// (40P01), from the body or from COMMIT, rolls back and runs the whole body again, up to
    /// `maxAttempts` times in all, with a short jittered pause; the body must therefore only have
    /// effects inside the database (or be idempotent). Not reentrant: do not call it again on the
    /// same connection from inside `body`. The body must not send BEGIN, COMMIT or ROLLBACK itself.
    @discardableResult
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, maxAttempts: Int = 5,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try withPipelinedTransaction(isolation: isolation, maxAttempts: maxAttempts) { tx in
            try tx.send()
            return try body(self)
        }
    }

    /// Runs `body` with a `PostgresTransaction` that it fills: BEGIN goes out with the body's
    /// first round trip, COMMIT after the body returned, with whatever the body added and did not
    /// send (two round trips for a transaction that reads, then writes). Any error rolls back;
    /// a connection lost during the COMMIT's round trip throws `commitOutcomeUnknown` instead of
    /// `connectionLost`. Retries and reentrancy as `withTransaction`.
    @discardableResult
    public func withPipelinedTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, maxAttempts: Int = 5,
        _ body: (PostgresTransaction) throws -> T
    ) throws -> T {
        var attempt = 1
        while true {
            let transaction = PostgresTransaction(connection: self, isolation: isolation)
            do {
                let value = try body(transaction)
                try transaction.commit()
                return value
            } catch {
                transaction.rollback()
                guard let pgError = error as? PostgresError, pgError.isTransactionRetryable,
                    attempt < maxAttempts
                else { throw error }
                logger.debug(
                    "retrying transaction",
                    metadata: ["sqlstate": "\(pgError.sqlState?.rawValue ?? "")", "attempt": "\(attempt)"])
                attempt += 1
                // Jitter so two transactions that collided do not collide again in lockstep.
                usleep(UInt32.random(in: 1_000...(5_000 * UInt32(attempt))))
            }
        }
    }

    /// Rolls back whatever transaction is open; a broken connection is left for the pool to drop.
    func rollbackIfOpen() {
        guard isUsable, isInTransaction else { return }
        do {
            try executeScript(unsafeSQL: "ROLLBACK")
        } catch {
            logger.warning("rollback failed", metadata: ["error": "\(error)"])
        }
    }
}
