import Foundation
import Postgres

/// One row of `insight_counts` (migration 0024): messages of one kind and name in one UTC hour.
public struct InsightCount: Sendable, Equatable {
    public var kind: String
    public var name: String
    /// The start of the UTC hour.
    public var hour: Date
    public var count: Int
    public var firstSeen: Date
    public var lastSeen: Date

    public init(kind: String, name: String, hour: Date, count: Int, firstSeen: Date, lastSeen: Date) {
        self.kind = kind; self.name = name; self.hour = hour; self.count = count; self.firstSeen = firstSeen; self.lastSeen = lastSeen
    }
}

/// Rejected messages of one UTC day and reason, all write keys together.
public struct RejectedCount: Sendable, Equatable {
    public var day: String
    public var reason: String
    public var count: Int
}

extension Store {
    /// Adds `rows` to the stored counts in one statement: counts add up, first/last seen widen.
    package func addInsightCounts(_ rows: [InsightCount]) throws {
        guard !rows.isEmpty else { return }
        try connection.execute("""
            INSERT INTO insight_counts AS c (kind, name, hour, count, first_seen, last_seen)
            SELECT * FROM unnest(\(rows.map(\.kind))::text[], \(rows.map(\.name))::text[], \(rows.map(\.hour))::timestamptz[],
                                 \(rows.map(\.count))::bigint[], \(rows.map(\.firstSeen))::timestamptz[], \(rows.map(\.lastSeen))::timestamptz[])
            ON CONFLICT (kind, name, hour) DO UPDATE SET count = c.count + excluded.count,
                first_seen = least(c.first_seen, excluded.first_seen), last_seen = greatest(c.last_seen, excluded.last_seen)
            """)
    }

    /// Every stored count of an hour from `since` on (by hour, then kind and name).
    package func insightCounts(since: Date) throws -> [InsightCount] {
        try connection.query("""
            SELECT kind, name, hour, count, first_seen, last_seen FROM insight_counts WHERE hour >= \(since)
            ORDER BY hour, kind, name
            """).map {
            InsightCount(kind: try $0.decode(String.self, "kind"), name: try $0.decode(String.self, "name"),
                         hour: try $0.decode(Date.self, "hour"), count: try $0.decode(Int.self, "count"),
                         firstSeen: try $0.decode(Date.self, "first_seen"), lastSeen: try $0.decode(Date.self, "last_seen"))
        }
    }

    /// The latest receipt of each name of `kind`, whenever it was (for silences longer than the report's window).
    package func insightLastSeen(kind: String) throws -> [String: Date] {
        var out: [String: Date] = [:]
        for row in try connection.query("SELECT name, max(last_seen) AS last FROM insight_counts WHERE kind = \(kind) GROUP BY name") {
            out[try row.decode(String.self, "name")] = try row.decode(Date.self, "last")
        }
        return out
    }

    /// Rejected messages per UTC day and reason from the day of `since` on (`rejected_messages`).
    package func rejectedMessageCounts(since: Date) throws -> [RejectedCount] {
        try connection.query("""
            SELECT day::text AS day, reason, sum(count)::bigint AS n FROM rejected_messages
            WHERE day >= (\(since) AT TIME ZONE 'UTC')::date GROUP BY day, reason ORDER BY day, reason
            """).map {
            RejectedCount(day: try $0.decode(String.self, "day"), reason: try $0.decode(String.self, "reason"), count: try $0.decode(Int.self, "n"))
        }
    }
}

/// One name's counts of one kind summed over every hour.
public struct InsightTotal: Sendable, Equatable {
    public var kind: String
    public var name: String
    public var total: Int
    public var firstSeen: Date
    public var lastSeen: Date

    public init(kind: String, name: String, total: Int, firstSeen: Date, lastSeen: Date) {
        self.kind = kind; self.name = name; self.total = total; self.firstSeen = firstSeen; self.lastSeen = lastSeen
    }
}

extension Store {
    /// Every name of `kinds` with its counts summed over all hours (the data inventory's totals).
    package func insightTotals(kinds: [String]) throws -> [InsightTotal] {
        try connection.query("""
            SELECT kind, name, sum(count)::bigint AS total, min(first_seen) AS first, max(last_seen) AS last
            FROM insight_counts WHERE kind = ANY (\(kinds)::text[]) GROUP BY kind, name ORDER BY kind, name
            """).map {
            InsightTotal(kind: try $0.decode(String.self, "kind"), name: try $0.decode(String.self, "name"),
                         total: try $0.decode(Int.self, "total"), firstSeen: try $0.decode(Date.self, "first"),
                         lastSeen: try $0.decode(Date.self, "last"))
        }
    }
}

extension Store {
    /// Hour that folded `insight_counts` rows carry (the epoch): older than any `since` a drift
    /// report reads, still summed by `insightTotals` and `insightLastSeen`.
    static let foldedHour = Date(timeIntervalSince1970: 0)

    /// Retention of `insight_counts` (up to `retentionBatch` hourly rows older than `cutoff`, in
    /// the retention job's transaction): rows of the inventory kinds and of `event_type` are
    /// folded into one row per (kind, name) at `foldedHour`, so the inventory's totals and a key
    /// event's last-seen time stay exact; `messages`, `capture` and `unmapped_event` rows are only
    /// read inside the drift window and are deleted. Returns how many hourly rows went.
    package func foldInsightCounts(before cutoff: Date) throws -> Int {
        try connection.query("""
            WITH gone AS (
                DELETE FROM insight_counts WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM insight_counts WHERE hour < \(cutoff) AND hour <> \(Self.foldedHour) LIMIT \(Self.retentionBatch)))
                RETURNING kind, name, count, first_seen, last_seen),
            folded AS (
                INSERT INTO insight_counts AS c (kind, name, hour, count, first_seen, last_seen)
                SELECT kind, name, \(Self.foldedHour), sum(count), min(first_seen), max(last_seen) FROM gone
                WHERE kind NOT IN ('messages', 'capture', 'unmapped_event') GROUP BY kind, name
                ON CONFLICT (kind, name, hour) DO UPDATE SET count = c.count + excluded.count,
                    first_seen = least(c.first_seen, excluded.first_seen), last_seen = greatest(c.last_seen, excluded.last_seen))
            SELECT count(*)::int8 AS n FROM gone
            """).scalar(Int.self)
    }

    /// An erased lead leaves the data inventory: `leads` −1 and `lead_field` −1 for each followed
    /// field it held (`InventoryFields.present`), added in the erasure's transaction. Merged
    /// leads of its group were subtracted when they merged.
    package func subtractErasedLeadFromInventory(fields: [String], at now: Date) throws {
        let hour = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        try addInsightCounts([InsightCount(kind: "leads", name: "all", hour: hour, count: -1, firstSeen: now, lastSeen: now)]
            + fields.map { InsightCount(kind: "lead_field", name: $0, hour: hour, count: -1, firstSeen: now, lastSeen: now) })
    }
}
