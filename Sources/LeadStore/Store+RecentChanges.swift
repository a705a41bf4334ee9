import Foundation
import Postgres

/// One entry or exit of a segment with the decision that made it (the dashboard's segment page).
package struct SegmentChangeRow: Sendable {
    package var leadId: UUID
    package var change: String
    /// The segment's explanation as the history stored it (redacted for an erased lead).
    package var reason: PostgresJSON?
    package var rulesetVersion: Int
    package var occurredAt: Date
    /// The event that caused it: its canonical type and the name as sent; nil when time passed (the sweeper).
    package var eventType: String?
    package var eventName: String?
    /// The lead's decision recorded with the change (same lead, same evaluation time): its number.
    package var decisionSeq: Int?
}

/// One raw event of a lead (the dashboard's lead timeline).
package struct LeadEventRow: Sendable {
    package var id: UUID
    package var occurredAt: Date
    package var kind: String
    package var type: String
    package var name: String?
    /// The message as received.
    package var message: PostgresJSON
}

extension Store {
    /// The newest `limit` entries and exits of `segment`, newest first, each joined to the decision
    /// recorded in the same evaluation (`EvaluationWriter` stamps both with the evaluation time) and
    /// to its event. Reads `membership_history_segment_time_idx` backwards, then `limit` index probes
    /// into `decisions` (`decisions_lead_time_id_idx`) and `events` (its primary key).
    package func recentChanges(of segment: String, limit: Int) throws -> [SegmentChangeRow] {
        try connection.query("""
            SELECT h.lead_id, h.change, h.reason, h.reason_packed, h.ruleset_version, h.occurred_at, e.type, e.name, d.seq
            FROM (SELECT * FROM membership_history WHERE segment = \(segment) ORDER BY occurred_at DESC, id DESC LIMIT \(limit)) AS h
            LEFT JOIN LATERAL (SELECT seq FROM decisions d WHERE d.lead_id = h.lead_id AND d.evaluated_at = h.occurred_at
                               AND d.event_id IS NOT DISTINCT FROM h.event_id ORDER BY seq DESC LIMIT 1) AS d ON true
            LEFT JOIN LATERAL (SELECT type, name FROM events e WHERE e.lead_id = h.lead_id AND e.id = h.event_id LIMIT 1) AS e ON true
            ORDER BY h.occurred_at DESC, h.id DESC
            """).map { row in
            SegmentChangeRow(leadId: try row.decode(UUID.self, "lead_id"), change: try row.decode(String.self, "change"),
                             reason: try Store.storedDocument(row, json: "reason", packed: "reason_packed"), rulesetVersion: try row.decode(Int.self, "ruleset_version"),
                             occurredAt: try row.decode(Date.self, "occurred_at"), eventType: try row.decode(String?.self, "type"),
                             eventName: try row.decode(String?.self, "name"), decisionSeq: try row.decode(Int?.self, "seq"))
        }
    }

    /// The newest `limit` raw events of a lead, newest first (the primary key `(lead_id, occurred_at, id)` read backwards).
    package func recentEvents(of lead: UUID, limit: Int) throws -> [LeadEventRow] {
        try connection.query("""
            SELECT id, occurred_at, kind, type, name, message FROM events WHERE lead_id = \(lead)
            ORDER BY occurred_at DESC, id DESC LIMIT \(limit)
            """).map { row in
            LeadEventRow(id: try row.decode(UUID.self, "id"), occurredAt: try row.decode(Date.self, "occurred_at"), kind: try row.decode(String.self, "kind"),
                         type: try row.decode(String.self, "type"), name: try row.decode(String?.self, "name"),
                         message: try row.decode(PostgresJSON.self, "message"))
        }
    }
}
