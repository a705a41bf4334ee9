import Foundation
import JSONCoding
import Postgres
import Segmentation

/// What `leadrouter_route_to_queue` answered for a decision's sales action.
public struct RoutedItem: Decodable, Sendable, Equatable {
    public var itemId: UUID
    /// False when the lead already had a not-closed item (re-routing updated or moved it).
    public var created: Bool
    /// True when the lead's open item was in another queue and moved to this route's.
    public var moved: Bool?
    /// True when a country that arrived reassigned the unclaimed item to a territory member.
    public var reassigned: Bool?
    /// True when the answer is the item sales acked since the lead entered the routing segment
    /// (nothing was queued).
    public var acked: Bool?
    /// Where a moved item was: `{queue, segment, team_id, owner_id, sla_due_at}`.
    public var movedFrom: ItemPlace?
    /// A moved item's SLA due time (the sooner of its own and the new route's), as PostgreSQL wrote it.
    public var slaDueAtText: String?

    /// `slaDueAtText` read (nil when absent or not ISO 8601).
    public var movedSLADueAt: Timestamp? { slaDueAtText.flatMap(Timestamp.parse) }
    public var teamId: String?
    public var ownerId: String?
    /// `account`, `territory`, `round_robin`, `least_loaded`, `escalation` or `unassigned`.
    public var assignedBy: String?
    public var skipped: [AssignmentSkip]?

    enum CodingKeys: String, CodingKey {
        case itemId = "item_id", created, teamId = "team_id", ownerId = "owner_id", assignedBy = "assigned_by", skipped
        case moved, reassigned, acked, movedFrom = "moved_from", slaDueAtText = "sla_due_at"
    }

    /// Whether the lead has this item open after routing (false: the acked item was answered).
    public var isOpen: Bool { acked != true }
}

/// Where an item was (or went): queue, segment, team and owner.
public struct ItemPlace: Codable, Sendable, Equatable {
    public var queue: String
    public var segment: String?
    public var teamId: String?
    public var ownerId: String?

    enum CodingKeys: String, CodingKey { case queue, segment, teamId = "team_id", ownerId = "owner_id" }
}

/// One unclaimed item past its SLA, with what re-assignment needs about its lead.
public struct BreachedItem: Sendable {
    public var item: QueueItem
    public var escalateTo: String?
    public var country: String?
    public var shipToRegion: String?
    public var companyDomain: String?
}

extension Store {
    /// Puts the lead in `queue` (or updates its item there) and assigns an owner for a new
    /// item, in ONE statement on this transaction's connection (see migrations/0003_queues.sql).
    public func routeToQueue(lead: UUID, queue: String, segment: String, team: String?, priority: Double, slaDueAt: Date?,
                             country: String?, shipToRegion: String?, companyDomain: String?, memberSince: Date?, now: Date) throws -> RoutedItem {
        try Self.routedItem(connection.query(routeToQueueQuery(RouteRequest(
            lead: lead, queue: queue, segment: segment, team: team, priority: priority, slaDueAt: slaDueAt, country: country,
            shipToRegion: shipToRegion, companyDomain: companyDomain, memberSince: memberSince, now: now))))
    }

    /// The routing statement for `r` (one row, column `r`: the routing's JSON answer).
    package func routeToQueueQuery(_ r: RouteRequest) -> PostgresQuery {
        """
        SELECT leadrouter_route_to_queue(\(r.lead), \(r.queue), \(r.segment), \(r.team), \(r.priority), \(r.slaDueAt),
                                         \(r.country), \(r.shipToRegion), \(r.companyDomain), \(r.now), \(r.memberSince)) AS r
        """
    }

    /// What a routing statement answered.
    package static func routedItem(_ rows: PostgresRows) throws -> RoutedItem {
        try rows[0].decode(PostgresJSON.self, "r").decode(RoutedItem.self)
    }

    /// The routing of every request of `requests`, in that order, in ONE statement
    /// (`leadrouter_route_batch`, migrations/0112): what one `routeToQueueQuery` each does,
    /// without a statement's round of parse, bind, execute and answer per route while the
    /// batch holds its teams' round-robin rows. One row, column `r`: the answers, in order.
    /// Only for requests that `fitsRouteBatch` (their times travel as epoch microseconds).
    package func routeToQueueQuery(_ requests: [RouteRequest]) -> PostgresQuery {
        let rows = Self.rows(requests) { j, f, r in
            j.member("l", first: &f); j.uuid(r.lead)
            j.member("q", first: &f); j.string(r.queue)
            j.member("s", first: &f); j.string(r.segment)
            if let v = r.team { j.member("t", first: &f); j.string(v) }
            j.member("p", first: &f); j.number(r.priority)
            if let v = r.slaDueAt { j.member("d", first: &f); j.micros(v) }
            if let v = r.country { j.member("c", first: &f); j.string(v) }
            if let v = r.shipToRegion { j.member("r", first: &f); j.string(v) }
            if let v = r.companyDomain { j.member("o", first: &f); j.string(v) }
            j.member("n", first: &f); j.micros(r.now)
            if let v = r.memberSince { j.member("m", first: &f); j.micros(v) }
        }
        return "SELECT leadrouter_route_batch(\(rows)) AS r"
    }

    /// What a `routeToQueueQuery(_: [RouteRequest])` answered for its `count` requests.
    package static func routedItems(_ rows: PostgresRows, count: Int) throws -> [RoutedItem] {
        let items = try rows[0].decode(PostgresJSON.self, "r").decode([RoutedItem].self)
        guard items.count == count else { throw RouteBatchMismatch(sent: count, answered: items.count) }
        return items
    }

    /// Lets the routing transaction's COMMIT release the teams' round-robin rows without
    /// waiting for the disk; its `PostgresTransaction` waits for the flush after the COMMIT
    /// (`PostgresConnection.deferCommitFlush`, docs/queues.md#assignment). Plain PostgreSQL
    /// only: on Citus the coordinator's commit record decides the workers' prepared
    /// transactions, which commit right after it — it must be on disk before they do.
    static let commitWithoutWaitingForDiskQuery: PostgresQuery =
        "SELECT set_config('synchronous_commit', 'off', true) WHERE NOT leadrouter_on_citus()"

    /// Locks the round-robin rows of `teams` and of the teams they escalate to, in team order,
    /// to this transaction's end: the rows assignment locks (`leadrouter_assign_owner`), taken
    /// at once and in one order, so transactions routing several teams never wait in a circle.
    package func lockTeamsQuery(_ teams: [String]) -> PostgresQuery {
        """
        SELECT team_id FROM round_robin_state
        WHERE team_id = ANY(\(teams)::text[])
           OR team_id IN (SELECT escalate_to FROM teams WHERE id = ANY(\(teams)::text[]))
        ORDER BY team_id FOR UPDATE
        """
    }

    /// Closes the lead's not-closed items with `reason`; only those of `segments` when given.
    public func closeQueueItemsQuery(lead: UUID, segments: [String]?, reason: String, now: Date) -> PostgresQuery {
        """
        UPDATE queue_items SET state = 'closed', close_reason = \(reason), closed_at = \(now), lease_until = NULL, updated_at = \(now)
        WHERE lead_id = \(lead) AND state <> 'closed' AND (\(segments == nil) OR segment = ANY(\(segments ?? [])::text[]))
        """
    }

    /// Records the owner of the lead's open item on the lead row (`GET /v1/leads/{id}` shows it).
    /// Existing leads follow their item by trigger (migrations/0011); this is for a lead whose row
    /// is written after its item, in the same transaction.
    public func setLeadOwnerQuery(lead: UUID, owner: String?) -> PostgresQuery {
        "UPDATE leads SET owner_id = \(owner) WHERE id = \(lead) AND owner_id IS DISTINCT FROM \(owner)"
    }

    /// Locks up to `limit` not-closed, not-yet-breached items whose SLA is due at `now`: the SLA
    /// runs until the first touch (the ack that closes the item), so claims, releases and
    /// expired leases do not stop it. Items whose lead row is locked are left for the next round.
    /// The items and their leads are locked by `leadrouter_lock_breached_items` (migrations/0076:
    /// one statement on plain PostgreSQL, one per item on Citus) and read here.
    public func breachedItemsForUpdate(now: Date, limit: Int) throws -> [BreachedItem] {
        try connection.query("""
            SELECT \(unsafeRaw: QueueItem.columns(of: "i")), t.escalate_to, l.country, l.ship_to_region, l.company_domain
            FROM queue_items i LEFT JOIN teams t ON t.id = i.team_id JOIN leads l ON l.id = i.lead_id
            WHERE i.id = ANY(ARRAY(SELECT id FROM leadrouter_lock_breached_items(\(now), \(limit)::integer)))
            ORDER BY i.sla_due_at
            """).map { row in
            BreachedItem(item: try QueueItem(row: row), escalateTo: try row.decode(String?.self, "escalate_to"),
                         country: try row.decode(String?.self, "country"), shipToRegion: try row.decode(String?.self, "ship_to_region"),
                         companyDomain: try row.decode(String?.self, "company_domain"))
        }
    }

    /// Assigns an owner of `team` as the routing function would (for escalation), without escalating further.
    public func assignOwner(team: String, country: String?, shipToRegion: String?, companyDomain: String?, now: Date) throws -> RoutedAssignment {
        try connection.query("""
            SELECT leadrouter_assign_owner(\(team), \(country), \(shipToRegion), \(companyDomain), \(now), 1) AS a
            """)[0].decode(PostgresJSON.self, "a").decode(RoutedAssignment.self)
    }

    /// Marks a breach (once) and, when escalated, moves the item to the new team and owner.
    public func markBreached(item: UUID, now: Date, escalation: RoutedAssignment?) throws {
        let record = try escalation.map { try PostgresJSON(encoding: ["escalation": $0]) }
        try connection.execute("""
            WITH u AS (
                UPDATE queue_items SET sla_breached_at = \(now), updated_at = \(now),
                       team_id = coalesce(\(escalation?.teamId), team_id),
                       owner_id = CASE WHEN \(escalation != nil) THEN \(escalation?.ownerId) ELSE owner_id END,
                       assigned_by = CASE WHEN \(escalation != nil) THEN 'escalation' ELSE assigned_by END,
                       assignment = CASE WHEN \(record)::jsonb IS NULL THEN assignment
                                         ELSE leadrouter_queue_assignment(assignment, skipped_packed) || \(record)::jsonb END,
                       skipped_packed = CASE WHEN \(record)::jsonb IS NULL THEN skipped_packed END,
                       history = history || jsonb_build_array(jsonb_build_object('at', \(now)::timestamptz, 'event', 'sla_breached',
                                                                                 'escalated_to', \(record)::jsonb -> 'escalation'))
                WHERE id = \(item) RETURNING queue)
            SELECT pg_notify(\(queueNotifyChannel), queue) FROM u
            """)
    }
}

/// A routing batch answered another number of routes than it was sent (a bug, never expected).
struct RouteBatchMismatch: Error, CustomStringConvertible {
    var sent: Int
    var answered: Int
    var description: String { "leadrouter_route_batch answered \(answered) routes for \(sent)" }
}

extension RouteRequest {
    /// Whether the request can travel in a routing batch: a priority JSON can carry and times
    /// that are instants (a non-finite one goes in a statement of its own, as a parameter).
    var fitsRouteBatch: Bool {
        priority.isFinite && now.timeIntervalSince1970.isFinite
            && (slaDueAt?.timeIntervalSince1970.isFinite ?? true) && (memberSince?.timeIntervalSince1970.isFinite ?? true)
    }
}

/// What `leadrouter_assign_owner` answered.
public struct RoutedAssignment: Codable, Sendable, Equatable {
    public var teamId: String?
    public var ownerId: String?
    public var assignedBy: String
    public var skipped: [AssignmentSkip]

    enum CodingKeys: String, CodingKey { case teamId = "team_id", ownerId = "owner_id", assignedBy = "assigned_by", skipped }
}
