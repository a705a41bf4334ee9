import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Segmentation

/// Where the CRM read API's queries go (`DATABASE_READ_URL`, docs/scale-out.md#read-replicas):
/// a read replica when one is configured, reachable and at most `maxLag` seconds behind, else
/// the primary. A lead this node decided about within `ownWritesWindow` (`maxLag` plus two lag
/// measurements) is always read from the primary, so a client reads its own writes: any replica
/// used is less than `maxLag` behind, so after the window it has the write.
///
/// The lag is measured every `measureInterval` seconds on a replica connection; a failed
/// measurement counts as "not usable" until the next one succeeds.
package final class ReadRouting: ReadPoolChoosing {
    package let primary: PostgresPool
    package let replica: PostgresPool?
    package let maxLag: Double
    package let measureInterval: Double
    package var ownWritesWindow: Double { maxLag + 2 * measureInterval }
    /// Lead id → when (monotonic seconds) this node last decided about it; bounded.
    private let recentWrites = Locked(LRUCache<UUID, Double>(capacity: 100_000))
    /// The last measured lag; nil before the first measurement or after a failed one.
    private let lag = Locked<Double?>(nil)
    private let counts = Locked((replica: 0, primary: 0))
    private let job: PeriodicJob?
    private let logThrottle = LogThrottle()

    /// Reads on `primary` only.
    package convenience init(primary: PostgresPool) {
        self.init(primary: primary, replica: nil, maxLag: 0, logger: Logger(label: "leadrouter"))
    }

    /// Reads on `replica` when fresh enough; call `start()` to begin measuring its lag.
    package init(primary: PostgresPool, replica: PostgresPool?, maxLag: Double, measureInterval: Double = 0.5, logger: Logger) {
        self.primary = primary; self.replica = replica; self.maxLag = maxLag; self.measureInterval = measureInterval
        job = replica == nil ? nil : PeriodicJob(name: "lr-replica-lag", interval: measureInterval)
        guard let replica, let job else { return }
        let lag = self.lag, throttle = logThrottle
        job.start {
            do {
                let seconds = try replica.withConnection { try Store($0).replicationLag() }
                lag.withLock { $0 = seconds }
                logger.settle(throttle, level: .warning)
            } catch {
                lag.withLock { $0 = nil }
                logger.throttled(.warning, "read replica unusable, reading from the primary", error: error, by: throttle)
            }
            return .pause
        }
    }

    /// Stops measuring and closes the replica's pool.
    package func stop() {
        job?.stop()
        replica?.close()
    }

    /// The replica's lag as last measured, in seconds: nil when no replica is configured or the
    /// last measurement failed. For `/metrics` (a gauge) and `/healthz`.
    package var replicaLag: Double? { lag.withLock { $0 } }

    /// One line for `/readyz` and logs: the lag and where reads go.
    package var status: String {
        guard replica != nil else { return "none configured: reads go to the primary" }
        guard let lag = replicaLag else { return "not reachable: reads go to the primary" }
        let shown = String(format: "%.2f", lag)
        return lag <= maxLag ? "lag \(shown) s: reads go to the replica" : "lag \(shown) s beyond \(maxLag) s: reads go to the primary"
    }

    /// Reads sent to the replica and to the primary since start (for `/metrics` and tests).
    package var readCounts: (replica: Int, primary: Int) { counts.withLock { $0 } }

    /// Notes that this node just wrote `leadId` (called for every decision).
    package func noteWrite(_ leadId: UUID) {
        let now = Double(MonotonicClock.nanoseconds()) / 1e9
        recentWrites.withLock { _ = $0.set(now, for: leadId) }
    }

    /// The pool for a read of `leadId` (nil: a read of many leads).
    package func pool(forLead leadId: UUID?) -> PostgresPool {
        let chosen = replicaIfUsable(forLead: leadId)
        counts.withLock { chosen == nil ? ($0.primary += 1) : ($0.replica += 1) }
        return chosen ?? primary
    }

    /// Whether this node decided about `leadId` within `ownWritesWindow`.
    package func wroteRecently(_ leadId: UUID) -> Bool {
        guard let wrote = recentWrites.withLock({ $0.peek(leadId) }) else { return false }
        return Double(MonotonicClock.nanoseconds()) / 1e9 - wrote < ownWritesWindow
    }

    private func replicaIfUsable(forLead leadId: UUID?) -> PostgresPool? {
        guard let replica, let lag = replicaLag, lag <= maxLag else { return nil }
        if let leadId, wroteRecently(leadId) { return nil }
        return replica
    }
}

/// Passes every decision to `inner` after noting its lead as written by this node, so the
/// lead's reads go to the primary for a while (`ReadRouting`).
package struct NoteWritesHook: DecisionHook {
    let inner: any DecisionHook
    let routing: ReadRouting

    package init(_ inner: any DecisionHook, routing: ReadRouting) { self.inner = inner; self.routing = routing }

    package func decisionMade(leadId: UUID, decision: inout Decision, before: LeadState, after: LeadState,
                              pending: PendingStatements) throws -> [PostgresQuery] {
        routing.noteWrite(leadId)
        return try inner.decisionMade(leadId: leadId, decision: &decision, before: before, after: after, pending: pending)
    }
}
