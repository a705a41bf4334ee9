import Foundation
import LeadStore
import Postgres
import Segmentation

/// A queue item as the queue API shows it (`claim_token` only to the claimer that got it).
struct QueueItemView: Encodable {
    var item: QueueItem
    var showToken: Bool
    /// The lead's summary, so a rep need not fetch every lead.
    var lead: LeadSummary? = nil

    enum CodingKeys: String, CodingKey {
        case id, queue, leadId = "lead_id", segment, teamId = "team_id", ownerId = "owner_id", state, priority
        case claimToken = "claim_token", claimedBy = "claimed_by", leaseUntil = "lease_until", slaDueAt = "sla_due_at"
        case slaBreachedAt = "sla_breached_at", attempts, assignedBy = "assigned_by", assignment, closeReason = "close_reason"
        case outcome, createdAt = "created_at", firstClaimedAt = "first_claimed_at", history, note, lead
    }

    struct LeadJSON: Encodable {
        var summary: LeadSummary
        var why: String
        enum CodingKeys: String, CodingKey {
            case email, name, company, country, score, primarySegment = "primary_segment", lastEventAt = "last_event_at", why
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(summary.email, forKey: .email); try c.encode(summary.name, forKey: .name)
            try c.encode(summary.company, forKey: .company); try c.encode(summary.country, forKey: .country)
            try c.encode(summary.score, forKey: .score); try c.encode(summary.primarySegment, forKey: .primarySegment)
            try c.encode(summary.lastEventAt.map(Timestamp.init), forKey: .lastEventAt); try c.encode(why, forKey: .why)
        }
    }

    /// Why the item is in front of the rep, in a sentence.
    var why: String {
        var parts = ["in segment \(item.segment ?? "(none)")"]
        if let by = item.assignedBy { parts.append("owner by \(by)") }
        if item.slaBreachedAt != nil { parts.append("SLA breached") }
        return parts.joined(separator: "; ")
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let ts: (Date?) -> Timestamp? = { $0.map(Timestamp.init) }
        try c.encode(item.id.uuidString.lowercased(), forKey: .id); try c.encode(item.queue, forKey: .queue)
        try c.encode(item.leadId.uuidString.lowercased(), forKey: .leadId); try c.encode(item.segment, forKey: .segment)
        try c.encode(item.teamId, forKey: .teamId); try c.encode(item.ownerId, forKey: .ownerId)
        try c.encode(item.state, forKey: .state); try c.encode(item.priority, forKey: .priority)
        if showToken { try c.encode(item.claimToken?.uuidString.lowercased(), forKey: .claimToken) }
        try c.encode(item.claimedBy, forKey: .claimedBy); try c.encode(ts(item.leaseUntil), forKey: .leaseUntil)
        try c.encode(ts(item.slaDueAt), forKey: .slaDueAt); try c.encode(ts(item.slaBreachedAt), forKey: .slaBreachedAt)
        try c.encode(item.attempts, forKey: .attempts); try c.encode(item.assignedBy, forKey: .assignedBy)
        try c.encode(try PostgresJSONValue(item.assignment), forKey: .assignment)
        try c.encode(item.closeReason, forKey: .closeReason); try c.encode(item.outcome, forKey: .outcome)
        try c.encode(Timestamp(item.createdAt), forKey: .createdAt); try c.encode(ts(item.firstClaimedAt), forKey: .firstClaimedAt)
        try c.encode(try PostgresJSONValue(item.history), forKey: .history)
        try c.encode(item.note, forKey: .note)
        if let lead { try c.encode(LeadJSON(summary: lead, why: why), forKey: .lead) }
    }
}

/// `{data: [...], next_cursor}` of `GET /v1/queues/{queue}`; `{data: [...]}` of a claim.
struct QueueItemsPage: Encodable {
    var queue: String
    var data: [QueueItemView]
    var nextCursor: String?
    var includeCursor: Bool

    enum CodingKeys: String, CodingKey { case queue, data, nextCursor = "next_cursor" }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(queue, forKey: .queue); try c.encode(data, forKey: .data)
        if includeCursor { try c.encode(nextCursor, forKey: .nextCursor) }
    }
}

/// `GET /v1/queues/{queue}/stats`.
struct QueueStatsView: Encodable {
    var queue: String
    var stats: QueueStats
    enum CodingKeys: String, CodingKey {
        case queue, open, claimed, breached, breachedTotal = "breached_total"
        case median = "median_seconds_to_claim", p90 = "p90_seconds_to_claim"
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(queue, forKey: .queue); try c.encode(stats.open, forKey: .open); try c.encode(stats.claimed, forKey: .claimed)
        try c.encode(stats.breachedOpen, forKey: .breached); try c.encode(stats.breachedTotal, forKey: .breachedTotal)
        try c.encode(stats.medianSecondsToClaim, forKey: .median); try c.encode(stats.p90SecondsToClaim, forKey: .p90)
    }
}

/// One owner of `GET /v1/owners`.
struct OwnerJSON: Encodable {
    struct Team: Encodable { var team: String; var capacity: Int?; var territories: [String] }
    var id: String; var available: Bool; var active: Bool; var load: Int; var open: Int; var claimed: Int; var teams: [Team]
    init(_ o: OwnerView) {
        id = o.id; available = o.available; active = o.active; open = o.open; claimed = o.claimed; load = o.open + o.claimed
        teams = o.teams.map { Team(team: $0.team, capacity: $0.capacity, territories: $0.territories) }
    }
    enum CodingKeys: String, CodingKey { case id, available, active, load, open, claimed, teams }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(available, forKey: .available); try c.encode(active, forKey: .active)
        try c.encode(load, forKey: .load); try c.encode(open, forKey: .open); try c.encode(claimed, forKey: .claimed)
        try c.encode(teams, forKey: .teams)
    }
}

/// `GET /v1/owners/{id}/items`: `{owner_id, data: [...], next_cursor}`.
struct OwnerItemsPage: Encodable {
    var ownerId: String
    var data: [QueueItemView]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey { case ownerId = "owner_id", data, nextCursor = "next_cursor" }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ownerId, forKey: .ownerId); try c.encode(data, forKey: .data); try c.encode(nextCursor, forKey: .nextCursor)
    }
}
