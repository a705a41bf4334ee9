import Foundation

/// Row locks released at COMMIT without waiting for the disk (issue 23, target 5; used by sales
/// routing, docs/queues.md#assignment). A transaction that takes a hot row lock — a sales team's
/// round-robin row — holds it until its COMMIT returns, and a synchronous COMMIT returns after
/// the WAL flush: every transaction of that team then waits for the disk in turn, one flush
/// each, and group commit cannot share a flush among them. Committed with
/// `synchronous_commit = off`, the transaction releases its locks once its commit record is
/// written; `PostgresTransaction.commit` then makes it durable before it returns, with a second,
/// one-statement transaction that writes a WAL record and commits synchronously: WAL is flushed
/// in order, so that flush covers the first commit too. Still: returned means on disk.
///
/// Between the two, other sessions can see the first transaction's rows before they are on disk
/// (as with any asynchronous commit): what they write after reading them commits after it, and
/// its flush covers the first one; only a pure read can show rows that a crash in that window
/// loses — rows whose writer was never told they were committed.
extension PostgresConnection {
    /// Marks the open `PostgresTransaction` as one whose COMMIT may return before the disk
    /// flush, which its `commit()` then waits for in a round trip of its own. The caller sends
    /// the statement that turns the wait off (it knows whether the server allows it). False, and
    /// nothing marked, when no `PostgresTransaction` is open on this connection: a statement
    /// outside one commits on its own, and nobody would wait for its flush.
    public func deferCommitFlush() -> Bool {
        guard transactionObjectOpen else { return false }
        commitFlushDeferred = true
        return true
    }

    /// Waits until everything committed on this connection so far is on disk (and on synchronous
    /// standbys): a transaction of one WAL record (a logical-decoding message, which needs no
    /// privilege and no table) commits synchronously — a transaction that writes no WAL would
    /// commit without waiting.
    func flushCommitted() throws {
        try executeScript(unsafeSQL: "SELECT pg_logical_emit_message(true, 'leadrouter', 'flush')")
    }
}
