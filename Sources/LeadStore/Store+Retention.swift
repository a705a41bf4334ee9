import Foundation
import Postgres

/// One monthly event partition the retention job may archive and drop.
public struct EventPartition: Sendable, Equatable {
    public var name: String
    public var monthStart: Date
    public var monthEnd: Date
}

extension Store {
    /// Rows deleted per statement: short transactions, no long lock on a busy table.
    public static let retentionBatch = 10_000

    /// Tries the retention job's advisory lock for this transaction: false when another node holds it.
    public func tryRetentionLock() throws -> Bool {
        try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.retentionLockKey)::int8) AS got").scalar(Bool.self)
    }

    /// An arbitrary constant, the same on every node ("lr-retention").
    static let retentionLockKey: Int64 = 0x6c72_2d72_6574_656e

    /// Deletes up to `retentionBatch` idempotency records received before `cutoff`; returns how many.
    /// The batch is picked by its primary key, not by `ctid`: Citus plans the `LIMIT` subquery
    /// first and cannot send its `ctid`s to the shards, while keys work on both
    /// (docs/scale-out.md, *PRUNE*).
    public func pruneProcessedMessages(before cutoff: Date) throws -> Int {
        try connection.execute("""
            DELETE FROM processed_messages WHERE (write_key_id, message_id) IN (
                SELECT write_key_id, message_id FROM processed_messages WHERE received_at < \(cutoff) LIMIT \(Self.retentionBatch))
            """)
    }

    /// Deletes up to `retentionBatch` delivered deliveries delivered before `cutoff`, then outbox
    /// rows created before it that no delivery and no pending dispatch refers to (dead
    /// deliveries and their messages stay until someone retries or deletes them). Every
    /// subquery names `lead_id` as well: on Citus the three tables are co-located by it, and a
    /// correlation on `outbox_id` alone is a join across shards, which Citus refuses.
    public func pruneDelivered(before cutoff: Date) throws -> Int {
        let deliveries = try connection.execute("""
            DELETE FROM deliveries WHERE (id, lead_id) IN (
                SELECT id, lead_id FROM deliveries WHERE status = 'delivered' AND delivered_at < \(cutoff) LIMIT \(Self.retentionBatch))
            """)
        let outbox = try connection.execute("""
            DELETE FROM outbox WHERE (id, lead_id) IN (
                SELECT o.id, o.lead_id FROM outbox o WHERE o.created_at < \(cutoff)
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = o.id AND d.lead_id = o.lead_id)
                  AND NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.outbox_id = o.id AND p.lead_id = o.lead_id)
                LIMIT \(Self.retentionBatch))
            """)
        return deliveries + outbox
    }

    /// Deletes up to `retentionBatch` decisions evaluated before `cutoff`, picked by their key
    /// (lead_id, seq): the only index on decisions besides the BRIN on time (migrations/0088).
    public func pruneDecisions(before cutoff: Date) throws -> Int {
        try connection.execute("""
            DELETE FROM decisions WHERE (lead_id, seq) IN (
                SELECT lead_id, seq FROM decisions WHERE evaluated_at < \(cutoff) LIMIT \(Self.retentionBatch))
            """)
    }

    /// Deletes up to `retentionBatch` membership entries and exits older than `cutoff`.
    public func pruneMembershipHistory(before cutoff: Date) throws -> Int {
        try connection.execute("""
            DELETE FROM membership_history WHERE (lead_id, id) IN (
                SELECT lead_id, id FROM membership_history WHERE occurred_at < \(cutoff) LIMIT \(Self.retentionBatch))
            """)
    }

    /// Deletes up to `retentionBatch` stage changes older than `cutoff`, except each lead's latest
    /// one while it names a stage: the rollup trigger measures the next stay from it and the goal
    /// of the stage the lead sits in is looked up from it (migration 0048), so a lead that has
    /// kept its stage longer than the window keeps one row. The rollups are not touched (the
    /// trigger counts inserts only): past funnel counts outlive the history, as segment metrics
    /// outlive `membership_history`.
    public func pruneStageHistory(before cutoff: Date) throws -> Int {
        try connection.execute("""
            DELETE FROM stage_history WHERE (lead_id, id) IN (
                SELECT h.lead_id, h.id FROM stage_history h
                WHERE h.occurred_at < \(cutoff)
                  AND (h.to_stage = '' OR EXISTS (
                      SELECT 1 FROM stage_history l WHERE l.lead_id = h.lead_id AND (l.occurred_at, l.id) > (h.occurred_at, h.id)))
                LIMIT \(Self.retentionBatch))
            """)
    }

    /// Monthly event partitions whose month ended by `cutoff`, oldest first.
    public func eventPartitions(endingBy cutoff: Date) throws -> [EventPartition] {
        try connection.query("SELECT partition_name, month_start, month_end FROM leadrouter_event_partitions_ending_by(\(cutoff))").map {
            EventPartition(name: try $0.decode(String.self, "partition_name"), monthStart: try $0.decode(Date.self, "month_start"),
                           monthEnd: try $0.decode(Date.self, "month_end"))
        }
    }

    /// Detaches and drops one partition `eventPartitions` listed.
    public func dropEventPartition(_ partition: EventPartition) throws -> Bool {
        try connection.query("SELECT leadrouter_drop_event_partition(\(partition.name)) AS dropped").scalar(Bool.self)
    }

    /// Deletes up to `retentionBatch` events older than `cutoff` that sit in `events_default`
    /// (months that had no partition when they arrived).
    /// By primary key, as `pruneProcessedMessages`.
    public func pruneDefaultPartitionEvents(before cutoff: Date) throws -> Int {
        try connection.execute("""
            DELETE FROM events_default WHERE (lead_id, occurred_at, id) IN (
                SELECT lead_id, occurred_at, id FROM events_default WHERE occurred_at < \(cutoff) LIMIT \(Self.retentionBatch))
            """)
    }

    /// A page of a month's events for the archive, as JSON lines (a packed message unpacked into
    /// its `message` member, as the export does), in primary-key order after
    /// `after` (lead id, time, id); nil cursor when it was the last page.
    public func archivePage(_ partition: EventPartition, after: (lead: UUID, at: Date, id: UUID)?)
        throws -> (lines: [[UInt8]], next: (lead: UUID, at: Date, id: UUID)?) {
        let start = after ?? (Self.nilUUID, ExportCursor.start.at, Self.nilUUID)
        let rows = try connection.query("""
            SELECT lead_id, occurred_at, id, message_packed,
                   (to_jsonb(e) - 'message_packed' - CASE WHEN message_packed IS NULL THEN '' ELSE 'message' END)::text AS doc
            FROM events e
            WHERE occurred_at >= \(partition.monthStart) AND occurred_at < \(partition.monthEnd)
              AND (lead_id, occurred_at, id) > (\(start.0)::uuid, \(start.1), \(start.2)::uuid)
            ORDER BY lead_id, occurred_at, id LIMIT \(Self.exportPageSize)
            """)
        var lines: [[UInt8]] = []
        var last: (lead: UUID, at: Date, id: UUID)?
        for row in rows {
            lines.append(try Self.exportDocument(row, key: "message", packed: "message_packed"))
            last = (try row.decode(UUID.self, "lead_id"), try row.decode(Date.self, "occurred_at"), try row.decode(UUID.self, "id"))
        }
        return (lines, lines.count == Self.exportPageSize ? last : nil)
    }
}
