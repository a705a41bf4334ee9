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
    /// to its event. Reads `membership_history_segment_time_idx` backwards, then, in a second round
    /// trip, those leads' events by id and their decisions in the changes' time range
    /// (`decisions_lead_time_id_idx`), matched here. Two statements rather than one with LATERAL
    /// joins: on Citus the newest rows over all shards are an intermediate result, which cannot be
    /// joined laterally to distributed tables (docs/scale-out.md).
    package func recentChanges(of segment: String, limit: Int) throws -> [SegmentChangeRow] {
        let history = try connection.query("""
            SELECT lead_id, change, reason, reason_packed, ruleset_version, occurred_at, event_id FROM membership_history
            WHERE segment = \(segment) ORDER BY occurred_at DESC, id DESC LIMIT \(limit)
            """)
        var rows: [(row: SegmentChangeRow, eventId: UUID?)] = []
        for h in history {
            rows.append((SegmentChangeRow(leadId: try h.decode(UUID.self, "lead_id"), change: try h.decode(String.self, "change"),
                                          reason: try Store.storedDocument(h, json: "reason", packed: "reason_packed"),
                                          rulesetVersion: try h.decode(Int.self, "ruleset_version"),
                                          occurredAt: try h.decode(Date.self, "occurred_at"), eventType: nil, eventName: nil, decisionSeq: nil),
                         try h.decode(UUID?.self, "event_id")))
        }
        guard let newest = rows.first?.row.occurredAt, let oldest = rows.last?.row.occurredAt else { return [] }
        let leads = Array(Set(rows.map(\.row.leadId))), eventIds = Array(Set(rows.compactMap(\.eventId)))
        let found = try connection.pipeline([
            "SELECT lead_id, id, type, name FROM events WHERE lead_id = ANY(\(leads)) AND id = ANY(\(eventIds))",
            """
            SELECT DISTINCT ON (lead_id, evaluated_at, event_id) lead_id, evaluated_at, event_id, seq FROM decisions
            WHERE lead_id = ANY(\(leads)) AND evaluated_at >= \(oldest) AND evaluated_at <= \(newest)
            ORDER BY lead_id, evaluated_at, event_id, seq DESC
            """,
        ])
        struct EventKey: Hashable { var lead: UUID, id: UUID }
        struct DecisionKey: Hashable { var lead: UUID, at: Date, event: UUID? }
        var events: [EventKey: (type: String, name: String?)] = [:]
        for e in found[0] {
            events[EventKey(lead: try e.decode(UUID.self, "lead_id"), id: try e.decode(UUID.self, "id"))] =
                (try e.decode(String.self, "type"), try e.decode(String?.self, "name"))
        }
        var decisions: [DecisionKey: Int] = [:]
        for d in found[1] {
            decisions[DecisionKey(lead: try d.decode(UUID.self, "lead_id"), at: try d.decode(Date.self, "evaluated_at"),
                                  event: try d.decode(UUID?.self, "event_id"))] = try d.decode(Int.self, "seq")
        }
        return rows.map { r in
            var row = r.row
            if let id = r.eventId, let e = events[EventKey(lead: row.leadId, id: id)] { row.eventType = e.type; row.eventName = e.name }
            row.decisionSeq = decisions[DecisionKey(lead: row.leadId, at: row.occurredAt, event: r.eventId)]
            return row
        }
    }


    /// The newest `limit` raw events of a lead, newest first (the primary key `(lead_id, occurred_at, id)` read backwards).
    package func recentEvents(of lead: UUID, limit: Int) throws -> [LeadEventRow] {
        try connection.query("""
            SELECT id, occurred_at, kind, type, name, message, message_packed FROM events WHERE lead_id = \(lead)
            ORDER BY occurred_at DESC, id DESC LIMIT \(limit)
            """).map { row in
            LeadEventRow(id: try row.decode(UUID.self, "id"), occurredAt: try row.decode(Date.self, "occurred_at"), kind: try row.decode(String.self, "kind"),
                         type: try row.decode(String.self, "type"), name: try row.decode(String?.self, "name"),
                         message: try Self.storedMessage(row))
        }
    }
}
