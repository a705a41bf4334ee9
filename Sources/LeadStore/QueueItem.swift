import Foundation
import Postgres

/// One row of `queue_items`: a lead waiting in (or taken from) a sales queue.
public struct QueueItem: Sendable, Equatable {
    /// The item id (path of ack/release/extend).
    public var id: UUID
    /// The queue (the route's `queue`).
    public var queue: String
    /// The lead it is about.
    public var leadId: UUID
    /// The segment whose route queued it; leaving it closes the item.
    public var segment: String?
    /// The team that assigned it (the escalation team after an SLA breach).
    public var teamId: String?
    /// The assigned owner (who should work it); nil = anyone in the team.
    public var ownerId: String?
    /// `open`, `claimed` or `closed`.
    public var state: String
    /// The lead's score when last routed (claim order, highest first).
    public var priority: Double
    /// Proof of the current claim; ack/release/extend need it.
    public var claimToken: UUID?
    /// Who claimed it (the owner claimed for, else the API key's name).
    public var claimedBy: String?
    /// When the current claim ends by itself.
    public var leaseUntil: Date?
    /// First touch due (route `sla`).
    public var slaDueAt: Date?
    /// Why it closed: acked, exited_segment, converted, unsubscribed, expired, cancelled.
    public var closeReason: String?
    /// The outcome an ack reported (a `sales.outcomes` name).
    public var outcome: String?
    /// What the rep wrote with the ack.
    public var note: String?
    /// How many times it was claimed.
    public var attempts: Int
    /// The assignment step that chose the owner.
    public var assignedBy: String?
    /// `{skipped: [...], escalation: {...}}` as assignment recorded it (read through
    /// `leadrouter_queue_assignment`: the skipped list is stored packed, migration 0105).
    public var assignment: PostgresJSON
    /// The first claim (time to claim).
    public var firstClaimedAt: Date?
    /// When the SLA worker escalated it (once).
    public var slaBreachedAt: Date?
    /// Queued at (service clock).
    public var createdAt: Date
    /// Last change.
    public var updatedAt: Date
    /// Closed at.
    public var closedAt: Date?
    /// Moves, reassignments, escalations and breaches since it opened: `[{at, event, ...}]`.
    public var history: PostgresJSON

    /// The columns `init(row:)` reads.
    static let columns = columns(of: nil)

    /// The columns `init(row:)` reads, of the row `alias` when given (a query that joins other
    /// tables). `assignment` is unpacked from its stored form (migration 0105).
    static func columns(of alias: String?) -> String {
        let p = alias.map { $0 + "." } ?? ""
        let plain = ["id", "queue", "lead_id", "segment", "team_id", "owner_id", "state", "priority", "claim_token", "claimed_by",
                     "lease_until", "sla_due_at", "close_reason", "outcome", "attempts", "assigned_by", "first_claimed_at",
                     "sla_breached_at", "created_at", "updated_at", "closed_at", "history", "note"]
        return plain.map { p + $0 }.joined(separator: ", ")
            + ", leadrouter_queue_assignment(\(p)assignment, \(p)skipped_packed) AS assignment"
    }

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id"); queue = try row.decode(String.self, "queue")
        leadId = try row.decode(UUID.self, "lead_id"); segment = try row.decode(String?.self, "segment")
        teamId = try row.decode(String?.self, "team_id"); ownerId = try row.decode(String?.self, "owner_id")
        state = try row.decode(String.self, "state"); priority = try row.decode(Double.self, "priority")
        claimToken = try row.decode(UUID?.self, "claim_token"); claimedBy = try row.decode(String?.self, "claimed_by")
        leaseUntil = try row.decode(Date?.self, "lease_until"); slaDueAt = try row.decode(Date?.self, "sla_due_at")
        closeReason = try row.decode(String?.self, "close_reason"); outcome = try row.decode(String?.self, "outcome")
        attempts = try row.decode(Int.self, "attempts"); assignedBy = try row.decode(String?.self, "assigned_by")
        assignment = try row.decode(PostgresJSON.self, "assignment")
        firstClaimedAt = try row.decode(Date?.self, "first_claimed_at"); slaBreachedAt = try row.decode(Date?.self, "sla_breached_at")
        createdAt = try row.decode(Date.self, "created_at"); updatedAt = try row.decode(Date.self, "updated_at")
        closedAt = try row.decode(Date?.self, "closed_at")
        history = try row.decode(PostgresJSON.self, "history")
        note = try row.decode(String?.self, "note")
    }

    /// The lease as the pure rules see it.
    package var lease: LeaseSnapshot { LeaseSnapshot(state: state, claimToken: claimToken, leaseUntil: leaseUntil) }
}

/// Counts and claim latency of one queue (`GET /v1/queues/{queue}/stats`).
public struct QueueStats: Sendable, Equatable {
    /// Items waiting for a claimer.
    public var open: Int
    /// Items under a lease.
    public var claimed: Int
    /// Items that breached their SLA and are not closed yet.
    public var breachedOpen: Int
    /// Every item of the queue that ever breached its SLA.
    public var breachedTotal: Int
    /// Seconds from creation to first claim, over claimed items; nil with none.
    public var medianSecondsToClaim: Double?
    /// 90th percentile of the same.
    public var p90SecondsToClaim: Double?
}

/// What a rep needs to know about an item's lead without fetching it (`lead` of a queue item).
public struct LeadSummary: Sendable, Equatable {
    public var email: String?
    /// `traits.name`, else first and last name.
    public var name: String?
    /// `traits.company_name`, else the company domain.
    public var company: String?
    public var country: String?
    public var score: Double
    public var primarySegment: String?
    public var lastEventAt: Date?
}
