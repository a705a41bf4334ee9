import Foundation
import Postgres
import Segmentation

/// Topics of outbox rows, consumed by webhook delivery.
public enum OutboxTopic: String, Sendable, CaseIterable {
    case segmentEntered = "segment.entered"
    case segmentExited = "segment.exited"
    case leadRouted = "lead.routed"
    case leadStatusChanged = "lead.status_changed"
    case leadMerged = "lead.merged"
}

/// One outbox row to write.
public struct OutboxMessage: Sendable {
    public var topic: OutboxTopic
    public var leadId: UUID
    public var payload: PostgresJSON
    public init(topic: OutboxTopic, leadId: UUID, payload: PostgresJSON) {
        self.topic = topic; self.leadId = leadId; self.payload = payload
    }
}

/// One membership change to record in the history.
public struct MembershipChange: Sendable {
    public var segment: String
    /// `entered` or `exited`.
    public var change: String
    /// The explanation of the change (the rules with the values they saw).
    public var reason: PostgresJSON?
}

extension Store {
    /// Statements making the `memberships` rows of `lead` equal to `current` (segment → entered at), set-based.
    public func syncMembershipsQueries(lead: UUID, current: [String: Timestamp], rulesetVersion: Int) -> [PostgresQuery] {
        let names = current.keys.sorted()
        let times = names.map { current[$0]!.date }
        var queries: [PostgresQuery] = ["DELETE FROM memberships WHERE lead_id = \(lead) AND NOT (segment = ANY(\(names)::text[]))"]
        guard !names.isEmpty else { return queries }
        queries.append("""
            INSERT INTO memberships (segment, lead_id, entered_at, ruleset_version)
            SELECT s, \(lead), e, \(rulesetVersion) FROM unnest(\(names)::text[], \(times)::timestamptz[]) AS t(s, e)
            ON CONFLICT (segment, lead_id) DO NOTHING
            """)
        return queries
    }

    /// The statement appending entries and exits to the membership history (nil when none).
    public func appendHistoryQuery(lead: UUID, changes: [MembershipChange], rulesetVersion: Int, eventId: UUID?, at: Date) -> PostgresQuery? {
        guard !changes.isEmpty else { return nil }
        // One jsonb array parameter rather than text[]/jsonb[] arrays: cheaper to build and bind.
        var w = JSONWriter(capacity: 256 * changes.count)
        w.array(changes) { w, c in
            w.fixedObject { w, first in
                w.member("c", first: &first); w.string(c.change)
                w.member("r", first: &first)
                if let reason = c.reason { w.append(json: reason) } else { w.null() }
                w.member("s", first: &first); w.string(c.segment)
            }
        }
        return """
            INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
            SELECT \(lead), h ->> 's', h ->> 'c', nullif(h -> 'r', 'null'::jsonb), \(rulesetVersion), \(eventId), \(at)
            FROM jsonb_array_elements(\(w.json)) WITH ORDINALITY AS t(h, n) ORDER BY n
            """
    }

    /// The statement storing the audit row of a decision.
    /// The explanation column is taken from the document by the server (no second encoding).
    public func appendDecisionQuery(lead: UUID, eventId: UUID?, decision: Decision, document: PostgresJSON) throws -> PostgresQuery {
        """
            INSERT INTO decisions (lead_id, event_id, ruleset_version, evaluated_at, decision, explanation)
            SELECT \(lead), \(eventId), \(decision.rulesetVersion), \(decision.evaluatedAt.date), d, coalesce(d -> 'explanation', '{}')
            FROM (SELECT \(document) AS d) AS doc
            """
    }

    /// Queues outbox rows in this transaction (published only if it commits).
    public func appendOutbox(_ messages: [OutboxMessage]) throws {
        if let query = appendOutboxQuery(messages) { try connection.execute(query) }
    }

    /// The statement of `appendOutbox` (nil when there is nothing to queue).
    public func appendOutboxQuery(_ messages: [OutboxMessage]) -> PostgresQuery? {
        guard !messages.isEmpty else { return nil }
        var w = JSONWriter(capacity: messages.reduce(0) { $0 + $1.payload.bytes.count + 80 })
        w.array(messages) { w, m in
            w.fixedObject { w, first in
                w.member("l", first: &first); w.string(m.leadId.uuidString)
                w.member("p", first: &first); w.append(json: m.payload)
                w.member("t", first: &first); w.string(m.topic.rawValue)
            }
        }
        return """
            INSERT INTO outbox (topic, lead_id, payload)
            SELECT m ->> 't', (m ->> 'l')::uuid, m -> 'p' FROM jsonb_array_elements(\(w.json)) WITH ORDINALITY AS e(m, n)
            ORDER BY n
            """
    }

    /// Runs statements in one round trip (libpq pipeline mode) inside the open transaction.
    public func run(_ queries: [PostgresQuery]) throws {
        _ = try connection.pipeline(queries)
    }
}
