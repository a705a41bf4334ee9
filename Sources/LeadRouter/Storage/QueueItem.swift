import Foundation
import Postgres

/// One row of `queue_items`: a lead waiting in (or taken from) a sales queue.
public struct QueueItem: Sendable, Equatable {
    public var id: UUID
    public var queue: String
    public var leadId: UUID
    public var segment: String?
    public var teamId: String?
    /// The assigned owner (who should work it); nil = anyone in the team.
    public var ownerId: String?
    /// `open`, `claimed` or `closed`.
    public var state: String
    public var priority: Double
    public var claimToken: UUID?
    public var claimedBy: String?
    public var leaseUntil: Date?
    public var slaDueAt: Date?
    public var closeReason: String?
    public var outcome: String?
    public var attempts: Int
    public var assignedBy: String?
    /// `{skipped: [...], escalation: {...}}` as assignment recorded it.
    public var assignment: PostgresJSON
    public var firstClaimedAt: Date?
    public var slaBreachedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var closedAt: Date?

    /// The columns `init(row:)` reads.
    static let columns = """
        id, queue, lead_id, segment, team_id, owner_id, state, priority, claim_token, claimed_by, lease_until, sla_due_at,
        close_reason, outcome, attempts, assigned_by, assignment, first_claimed_at, sla_breached_at, created_at, updated_at, closed_at
        """

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
    }

    /// The lease as the pure rules see it.
    var lease: LeaseSnapshot { LeaseSnapshot(state: state, claimToken: claimToken, leaseUntil: leaseUntil) }
}

/// Counts and claim latency of one queue (`GET /v1/queues/{queue}/stats`).
public struct QueueStats: Sendable, Equatable {
    public var open: Int
    public var claimed: Int
    /// Items that breached their SLA and are not closed yet.
    public var breachedOpen: Int
    /// Every item of the queue that ever breached its SLA.
    public var breachedTotal: Int
    /// Seconds from creation to first claim, over claimed items; nil with none.
    public var medianSecondsToClaim: Double?
    public var p90SecondsToClaim: Double?
}
