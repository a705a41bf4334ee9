import Foundation
import Postgres

/// The order claims take open items in (`order` of a claim and of `GET /v1/queues/{queue}`).
public enum ClaimOrder: String, Sendable, CaseIterable {
    /// The SLA due soonest first (items without an SLA last), then the highest score, then the oldest.
    case urgency = "sla"
    /// The highest score first, then the oldest (for teams that work the best leads first).
    case priority

    /// The ORDER BY of this order (unqualified columns).
    var orderBy: String {
        switch self {
        case .urgency: "sla_due_at ASC NULLS LAST, priority DESC, created_at, id"
        case .priority: "priority DESC, created_at, id"
        }
    }

    /// The fields of a row value that ascends in this order, for cursors (`t` is the table alias).
    func sortKey(_ t: String) -> String {
        switch self {
        case .urgency: "coalesce(\(t).sla_due_at, 'infinity'), -\(t).priority, \(t).created_at, \(t).id"
        case .priority: "-\(t).priority, \(t).created_at, \(t).id"
        }
    }

    /// Whether `a` comes before `b` in this order.
    func precedes(_ a: QueueItem, _ b: QueueItem) -> Bool {
        if self == .urgency, a.slaDueAt != b.slaDueAt {
            return (a.slaDueAt ?? .distantFuture) < (b.slaDueAt ?? .distantFuture)
        }
        if a.priority != b.priority { return a.priority > b.priority }
        if a.createdAt != b.createdAt { return a.createdAt < b.createdAt }
        return a.id.uuidString < b.id.uuidString
    }
}

/// The channel a queue's NOTIFY goes to (payload: the queue name); long polls LISTEN to it.
public let queueNotifyChannel = "leadrouter_queue"

extension Store {
    /// Claims up to `limit` open items of `queue` (the owner's and unassigned ones when `owner` is
    /// given) in `order`: by default the SLA due soonest first (none last), then the highest
    /// priority, then the oldest. `FOR UPDATE SKIP LOCKED`: concurrent claimers pass over each
    /// other's rows instead of waiting, and never get the same item.
    public func claim(queue: String, owner: String?, claimer: String, limit: Int, leaseSeconds: Int, now: Date,
                      order: ClaimOrder = .urgency) throws -> [QueueItem] {
        // leadrouter_claim_queue_items (migration 0082): the one `FOR UPDATE SKIP LOCKED` statement
        // on plain PostgreSQL, a one-shard UPDATE per picked item on Citus.
        let rows = try connection.query("""
            SELECT \(unsafeRaw: QueueItem.columns) FROM leadrouter_claim_queue_items(
                \(queue), \(owner)::text, \(claimer), \(limit)::int4, \(Double(leaseSeconds))::float8, \(now), \(order.rawValue)) AS q
            """)
        return try rows.map(QueueItem.init(row:)).sorted(by: order.precedes)
    }

    /// The item `id` of `queue` (or moved from it: a claimer that holds it from before a move
    /// acks it where it claimed it), locked for the rest of the transaction.
    public func queueItemForUpdate(_ id: UUID, queue: String) throws -> QueueItem? {
        // leadrouter_lock_queue_item (migration 0082): on Citus the lock names the item's shard.
        try connection.query("""
            SELECT \(unsafeRaw: QueueItem.columns) FROM leadrouter_lock_queue_item(\(id), \(queue)::text) AS q
            """).first.map(QueueItem.init(row:))
    }

    /// Applies a lease action decided by `LeaseRules` to a locked item (`conflict` changes nothing).
    public func applyLease(_ action: LeaseAction, item id: UUID, now: Date) throws {
        switch action {
        case let .close(outcome):
            try connection.execute("""
                UPDATE queue_items SET state = 'closed', close_reason = 'acked', outcome = \(outcome), closed_at = \(now),
                       lease_until = NULL, updated_at = \(now) WHERE id = \(id)
                """)
        case .reopen:
            try connection.execute("""
                WITH r AS (UPDATE queue_items SET state = 'open', claim_token = NULL, claimed_by = NULL, lease_until = NULL,
                           updated_at = \(now) WHERE id = \(id) RETURNING queue)
                SELECT pg_notify(\(queueNotifyChannel), queue) FROM r
                """)
        case let .setLease(until):
            try connection.execute("UPDATE queue_items SET lease_until = \(until), updated_at = \(now) WHERE id = \(id)")
        case .conflict:
            break
        }
    }

    /// Keeps an ack's free text on the item.
    public func setQueueItemNote(_ id: UUID, note: String) throws {
        try connection.execute("UPDATE queue_items SET note = \(note) WHERE id = \(id)")
    }

    /// Items of a queue in claim `order`, `state` open or claimed (nil: both), optionally one
    /// owner's; `cursor` is the previous page's last item id.
    public func queueItems(queue: String, state: String?, owner: String?, limit: Int, cursor: UUID?,
                           order: ClaimOrder = .urgency) throws -> Page<QueueItem> {
        let rows = try connection.query("""
            SELECT \(unsafeRaw: QueueItem.columns) FROM queue_items i
            WHERE queue = \(queue) AND state <> 'closed' AND (\(state)::text IS NULL OR state = \(state))
              AND (\(owner)::text IS NULL OR owner_id = \(owner))
              AND (\(cursor)::uuid IS NULL OR (\(unsafeRaw: order.sortKey("i"))) >
                   (SELECT \(unsafeRaw: order.sortKey("c")) FROM queue_items c WHERE c.id = \(cursor)))
            ORDER BY \(unsafeRaw: order.orderBy) LIMIT \(limit + 1)
            """)
        let items = try rows.map(QueueItem.init(row:))
        return Page(fetched: items, limit: limit) { $0.id }
    }

    /// Counts and time to claim of one queue.
    public func queueStats(queue: String) throws -> QueueStats {
        let row = try connection.query("""
            SELECT count(*) FILTER (WHERE state = 'open') AS open,
                   count(*) FILTER (WHERE state = 'claimed') AS claimed,
                   count(*) FILTER (WHERE state <> 'closed' AND sla_breached_at IS NOT NULL) AS breached_open,
                   count(*) FILTER (WHERE sla_breached_at IS NOT NULL) AS breached_total,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_claimed_at - created_at))
                       FILTER (WHERE first_claimed_at IS NOT NULL) AS median,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_claimed_at - created_at))
                       FILTER (WHERE first_claimed_at IS NOT NULL) AS p90
            FROM queue_items WHERE queue = \(queue)
            """)[0]
        return QueueStats(open: try row.decode(Int.self, "open"), claimed: try row.decode(Int.self, "claimed"),
                          breachedOpen: try row.decode(Int.self, "breached_open"), breachedTotal: try row.decode(Int.self, "breached_total"),
                          medianSecondsToClaim: try row.decode(Double?.self, "median"), p90SecondsToClaim: try row.decode(Double?.self, "p90"))
    }

    /// Reopens up to `limit` items whose lease ran out at `now` and wakes their queues' long
    /// polls; returns how many. In `leadrouter_reopen_expired_leases` (migrations/0076: one
    /// statement on plain PostgreSQL, one per item on Citus).
    public func reopenExpiredLeases(now: Date, limit: Int) throws -> Int {
        try connection.query("""
            SELECT leadrouter_reopen_expired_leases(\(now), \(limit)::integer) AS n
            """)[0].decode(Int.self, "n")
    }
}

extension Store {
    /// The summaries of these leads (for queue items), by id.
    public func leadSummaries(_ ids: [UUID]) throws -> [UUID: LeadSummary] {
        guard !ids.isEmpty else { return [:] }
        var out: [UUID: LeadSummary] = [:]
        for row in try connection.query("""
            SELECT id, email, country, score, primary_segment, last_event_at,
                   coalesce(nullif(traits ->> 'name', ''),
                            nullif(concat_ws(' ', coalesce(traits ->> 'first_name', traits ->> 'firstName'),
                                                  coalesce(traits ->> 'last_name', traits ->> 'lastName')), '')) AS name,
                   coalesce(nullif(traits ->> 'company_name', ''), company_domain) AS company
            FROM leads WHERE id = ANY(\(ids)::uuid[])
            """) {
            out[try row.decode(UUID.self, "id")] = LeadSummary(
                email: try row.decode(String?.self, "email"), name: try row.decode(String?.self, "name"),
                company: try row.decode(String?.self, "company"), country: try row.decode(String?.self, "country"),
                score: try row.decode(Double.self, "score"), primarySegment: try row.decode(String?.self, "primary_segment"),
                lastEventAt: try row.decode(Date?.self, "last_event_at"))
        }
        return out
    }

    /// Queues that hold or held an item, sorted.
    public func queueNamesInUse() throws -> [String] {
        try connection.query("SELECT DISTINCT queue::text AS q FROM queue_items ORDER BY 1").map { try $0.decode(String.self, "q") }
    }

    /// Every owner id, sorted.
    public func ownerIds() throws -> [String] {
        try connection.query("SELECT id FROM owners ORDER BY id").map { try $0.decode(String.self, "id") }
    }

    /// The items owner `owner` holds (not closed), across queues, in urgency order; `cursor` is
    /// the previous page's last item id.
    public func ownerItems(owner: String, limit: Int, cursor: UUID?) throws -> Page<QueueItem> {
        let order = ClaimOrder.urgency
        let rows = try connection.query("""
            SELECT \(unsafeRaw: QueueItem.columns) FROM queue_items i
            WHERE owner_id = \(owner) AND state <> 'closed'
              AND (\(cursor)::uuid IS NULL OR (\(unsafeRaw: order.sortKey("i"))) >
                   (SELECT \(unsafeRaw: order.sortKey("c")) FROM queue_items c WHERE c.id = \(cursor)))
            ORDER BY \(unsafeRaw: order.orderBy) LIMIT \(limit + 1)
            """)
        let items = try rows.map(QueueItem.init(row:))
        return Page(fetched: items, limit: limit) { $0.id }
    }

    /// Items by id (without locking) of `queue` or moved from it, in no particular order.
    public func queueItems(ids: [UUID], queue: String) throws -> [QueueItem] {
        try connection.query("""
            SELECT \(unsafeRaw: QueueItem.columns) FROM queue_items
            WHERE id = ANY(\(ids)::uuid[])
              AND (queue = \(queue) OR history @> jsonb_build_array(jsonb_build_object('from', jsonb_build_object('queue', \(queue)::text))))
            """).map(QueueItem.init(row:))
    }
}
