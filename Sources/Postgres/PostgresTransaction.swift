import Foundation

/// The isolation level a transaction starts with.
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` inside `BEGIN … COMMIT`, rolling back when it throws.
    ///
    /// A serialization failure (40001) or deadlock (40P01), from the body or from COMMIT, rolls
    /// back and runs the whole body again, up to `maxAttempts` times in all, with a short jittered
    /// pause; the body must therefore only have effects inside the database (or be idempotent).
    /// Not reentrant: do not call it again on the same connection from inside `body`. A body may
    /// send `COMMIT` itself as the last statement of its last pipeline; then none is sent after it.
    /// With `bodyBegins`, no BEGIN is sent either: the body's first pipeline starts with
    /// `beginStatement(isolation)` (one round trip less per transaction).
    @discardableResult
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, maxAttempts: Int = 5, bodyBegins: Bool = false,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        var attempt = 1
        while true {
            do {
                if !bodyBegins { try executeScript(unsafeSQL: Self.beginStatement(isolation)) }
                let value = try body(self)
                // A body may end with COMMIT in its last pipeline (saving a round trip).
                if isInTransaction { try executeScript(unsafeSQL: "COMMIT") }
                return value
            } catch {
                rollbackIfOpen()
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

    /// The statement opening a transaction at `isolation`.
    public static func beginStatement(_ isolation: PostgresIsolationLevel = .readCommitted) -> String {
        "BEGIN ISOLATION LEVEL \(isolation.rawValue)"
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
