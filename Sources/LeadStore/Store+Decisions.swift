import Foundation
import JSONCoding
import Postgres
import Segmentation

/// Topics of outbox rows, consumed by webhook delivery.
public enum OutboxTopic: String, Sendable, CaseIterable {
    case segmentEntered = "segment.entered"
    case segmentExited = "segment.exited"
    case leadRouted = "lead.routed"
    case leadStatusChanged = "lead.status_changed"
    case leadMerged = "lead.merged"
    /// Written by an erasure (`LeadErasure`): ids and counts, no personal data.
    case leadErased = "lead.erased"
    /// Written by ingest when a message changes the lead's consent answers (`traits.consent`).
    case leadConsentChanged = "lead.consent_changed"
    case queueSLABreached = "queue.sla_breached"
    /// Written by `leadrouter_route_to_queue` (migrations/0011) when a lead's open item moves queue.
    case queueItemMoved = "queue.item_moved"
    /// Written by the drift check (`DriftMonitor.check`) once per new alert; not about one lead
    /// (its `lead_id` is the nil UUID), `data.owners` names the owners of the segments it affects.
    case driftDetected = "drift.detected"
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

    package init(segment: String, change: String, reason: PostgresJSON? = nil) {
        self.segment = segment; self.change = change; self.reason = reason
    }
}

extension Store {
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
                w.member("l", first: &first); w.uuid(m.leadId)
                w.member("p", first: &first); w.append(json: m.payload)
                w.member("t", first: &first); w.string(m.topic.rawValue)
            }
        }
        // Each row waits for the dispatcher in `outbox_pending`, written by the same statement (a
        // CTE, not a trigger: Citus runs no transition-table trigger; migrations/0075), with the
        // row's lead_id so that on Citus it lands on the outbox row's shard; the row itself is
        // never updated. Only topics some subscription (active or paused, not
        // deleted) lists are written: a row nobody subscribed to would be dispatched to nobody,
        // and was a fifth of the bytes an event stored (docs/benchmarks/storage.md). So a
        // subscription starts from its creation (the statement's snapshot decides); replay covers
        // only what was written while some subscription wanted the topic (docs/webhooks.md).
        return """
            WITH o AS (
                INSERT INTO outbox (topic, lead_id, payload)
                SELECT m ->> 't', (m ->> 'l')::uuid, m -> 'p' FROM jsonb_array_elements(\(w.json)) WITH ORDINALITY AS e(m, n)
                WHERE m ->> 't' IN (SELECT unnest(topics) FROM subscriptions WHERE deleted_at IS NULL)
                ORDER BY n
                RETURNING id, lead_id)
            INSERT INTO outbox_pending (outbox_id, lead_id) SELECT id, lead_id FROM o
            """
    }

    /// Runs statements in one round trip (libpq pipeline mode) inside the open transaction.
    public func run(_ queries: [PostgresQuery]) throws {
        _ = try connection.pipeline(queries)
    }
}
