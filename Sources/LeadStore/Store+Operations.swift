import Foundation
import Postgres

/// What `/metrics` reads from PostgreSQL when scraped (cached a few seconds by the caller):
/// backlogs shared by every node, so each node reports the same values.
public struct OperationalReadings: Sendable, Equatable {
    /// One sales queue's open work.
    public struct Queue: Sendable, Equatable {
        public var name: String
        public var open = 0
        public var claimed = 0
        /// When the oldest open (unclaimed) item was created.
        public var oldestOpen: Date?
        /// Items not closed whose SLA ran out before their first touch (`sla_breached_at` set).
        public var breached = 0
        public init(name: String) { self.name = name }
    }

    /// Leads whose `next_evaluation_at` has come, and the earliest of those times: the sweeper's lag.
    public var dueEvaluations = 0
    public var oldestDueEvaluation: Date?
    public var queues: [Queue] = []
    /// Webhook deliveries not delivered, by status (`pending`, `in_flight`, `dead`).
    public var deliveries: [String: Int] = [:]
    /// Pending deliveries that already failed at least once (waiting for a retry).
    public var retryingDeliveries = 0
    /// When the oldest delivery still pending or in flight was created: the webhooks' lag.
    public var oldestUndelivered: Date?
    /// Outbox rows not yet turned into deliveries.
    public var outboxPending = 0
    /// Members per segment (segments without members are absent).
    public var segmentSizes: [String: Int] = [:]
    /// Messages `/v1/batch` dropped as invalid since the start of the UTC day, by reason, all keys together.
    public var rejectedToday: [String: Int] = [:]
    /// Rollup delta rows not folded yet, per delta table (`segment_rollup_deltas`, `stage_rollup_deltas`).
    public var unfoldedRollupDeltas: [String: Int] = [:]
    /// How long the oldest of them has waited (seconds, PostgreSQL's clock; nil when none waits).
    public var oldestUnfoldedRollupDeltaAge: Double?

    public init() {}
}

extension Store {
    /// Every reading of `OperationalReadings`, each from an index or a small table.
    package func operationalReadings(now: Date) throws -> OperationalReadings {
        var readings = OperationalReadings()
        if let row = try connection.query("""
            SELECT count(*) AS n, min(next_evaluation_at) AS oldest FROM leads
            WHERE next_evaluation_at IS NOT NULL AND next_evaluation_at <= \(now)
            """).first {
            readings.dueEvaluations = try row.decode(Int.self, "n")
            readings.oldestDueEvaluation = try row.decode(Date?.self, "oldest")
        }
        for row in try connection.query("""
            SELECT queue, count(*) FILTER (WHERE state = 'open') AS open, count(*) FILTER (WHERE state = 'claimed') AS claimed,
                   min(created_at) FILTER (WHERE state = 'open') AS oldest_open,
                   count(*) FILTER (WHERE sla_breached_at IS NOT NULL) AS breached
            FROM queue_items WHERE state <> 'closed' GROUP BY queue ORDER BY queue
            """) {
            var queue = OperationalReadings.Queue(name: try row.decode(String.self, "queue"))
            queue.open = try row.decode(Int.self, "open")
            queue.claimed = try row.decode(Int.self, "claimed")
            queue.oldestOpen = try row.decode(Date?.self, "oldest_open")
            queue.breached = try row.decode(Int.self, "breached")
            readings.queues.append(queue)
        }
        for row in try connection.query("""
            SELECT status, count(*) AS n, count(*) FILTER (WHERE attempts > 0) AS retrying,
                   min(created_at) FILTER (WHERE status IN ('pending', 'in_flight')) AS oldest
            FROM deliveries WHERE status <> 'delivered' GROUP BY status
            """) {
            let status = try row.decode(String.self, "status")
            readings.deliveries[status] = try row.decode(Int.self, "n")
            if status == "pending" { readings.retryingDeliveries = try row.decode(Int.self, "retrying") }
            if let oldest = try row.decode(Date?.self, "oldest") {
                readings.oldestUndelivered = min(readings.oldestUndelivered ?? oldest, oldest)
            }
        }
        readings.outboxPending = try connection.query("SELECT count(*) AS n FROM outbox_pending").first?.decode(Int.self, "n") ?? 0
        readings.segmentSizes = try segmentSizes()
        for row in try connection.query("""
            SELECT reason, sum(count)::bigint AS n FROM rejected_messages
            WHERE day = (\(now) AT TIME ZONE 'UTC')::date GROUP BY reason
            """) {
            readings.rejectedToday[try row.decode(String.self, "reason")] = try row.decode(Int.self, "n")
        }
        try readUnfoldedRollupDeltas(into: &readings)
        return readings
    }
}
