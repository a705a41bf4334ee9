import Foundation
import Postgres

/// One quarantined lead (`quarantined_leads`, migration 0012): a lead row the service cannot
/// decode, set aside so that it never stops the sweeper or other leads.
public struct QuarantinedLead: Sendable {
    public var leadId: UUID
    /// The decoding error, without the stored value.
    public var reason: String
    public var firstSeen: Date
    public var lastSeen: Date
    /// How many times a decode of its row failed (sweeps, messages, reads).
    public var attempts: Int
}

extension Store {
    /// Records leads whose rows do not decode: one row each in `quarantined_leads` (inserted, or
    /// `last_seen`, `attempts` and `reason` brought up to date), and their `next_evaluation_at`
    /// cleared so the sweeper does not pick them again. Returns the ids quarantined for the first
    /// time by this call (the caller logs those, once per lead).
    @discardableResult
    package func quarantine(_ leads: [UndecodableLead]) throws -> Set<UUID> {
        var latest: [UUID: String] = [:]
        for lead in leads { latest[lead.id] = lead.reason }
        guard !latest.isEmpty else { return [] }
        let ids = latest.keys.sorted { $0.uuidString < $1.uuidString }
        let reasons = ids.map { latest[$0]! }
        // `last_seen = excluded.last_seen` (its default, now()) rather than `now()`: Citus refuses
        // a non-IMMUTABLE function in `DO UPDATE SET`; the value is the same.
        let rows = try connection.query("""
            WITH q AS (
                INSERT INTO quarantined_leads AS q (lead_id, reason)
                SELECT id, reason FROM unnest(\(ids)::uuid[], \(reasons)::text[]) AS x(id, reason)
                ON CONFLICT (lead_id) DO UPDATE SET reason = excluded.reason, last_seen = excluded.last_seen, attempts = q.attempts + 1
                RETURNING q.lead_id, q.attempts),
            cleared AS (
                UPDATE leads SET next_evaluation_at = NULL
                WHERE id IN (SELECT lead_id FROM q) AND next_evaluation_at IS NOT NULL)
            SELECT lead_id FROM q WHERE attempts = 1
            """)
        return Set(try rows.map { try $0.decode(UUID.self, at: 0) })
    }

    /// A page of quarantined leads in lead id order; `cursor` is the last lead id of the previous page.
    package func quarantinedLeads(limit: Int, cursor: String?) throws -> Page<QuarantinedLead> {
        let after = cursor.flatMap { UUID(uuidString: $0) }
        let rows = try connection.query("""
            SELECT lead_id, reason, first_seen, last_seen, attempts FROM quarantined_leads
            WHERE \(after == nil) OR lead_id > \(after ?? UUID())
            ORDER BY lead_id LIMIT \(limit + 1)
            """)
        let items = try rows.map { row in
            QuarantinedLead(leadId: try row.decode(UUID.self, at: 0), reason: try row.decode(String.self, at: 1),
                            firstSeen: try row.decode(Date.self, at: 2), lastSeen: try row.decode(Date.self, at: 3),
                            attempts: try row.decode(Int.self, at: 4))
        }
        return Page(fetched: items, limit: limit) { $0.leadId }
    }

    /// Releases a quarantined lead after an operator repaired its row: its entry goes and the lead
    /// (unless merged) is due for evaluation at once. False when it was not quarantined.
    package func releaseQuarantined(_ id: UUID) throws -> Bool {
        let rows = try connection.query("""
            WITH released AS (DELETE FROM quarantined_leads WHERE lead_id = \(id) RETURNING lead_id),
            scheduled AS (
                UPDATE leads SET next_evaluation_at = now()
                WHERE id IN (SELECT lead_id FROM released) AND merged_into IS NULL)
            SELECT lead_id FROM released
            """)
        return !rows.isEmpty
    }
}
