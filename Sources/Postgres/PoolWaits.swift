/// How often callers of a `PostgresPool` had to wait for a connection, since the pool started:
/// what `/metrics` reports as pool waits. A wait is an acquire that found every connection
/// busy and the pool at its maximum; one that got a connection at once is not counted.
public struct PoolWaits: Sendable, Equatable {
    /// Acquires that waited (whether they then got a connection or timed out).
    public var waits = 0
    /// Of those, the ones that gave up after `acquireTimeout` (`PostgresError.acquireTimeout`).
    public var timeouts = 0
    /// Time spent waiting, all waits together.
    public var waited = Duration.zero

    public init() {}
}
