import Foundation
import Postgres
import Segmentation

/// One stored event row.
public struct EventRow: Sendable {
    public var id: UUID
    public var leadId: UUID
    public var occurredAt: Date
    public var receivedAt: Date
    /// Segment call: track, identify, page, screen, group, alias.
    public var kind: String
    /// Canonical type (after aliasing; `page_viewed` for pages; the call name otherwise).
    public var type: String
    /// Name as sent.
    public var name: String?
    public var messageId: String?
    public var writeKeyId: UUID?
    /// The message as received (normalised JSON): replay, backfill, export.
    public var message: PostgresJSON

    package init(id: UUID, leadId: UUID, occurredAt: Date, receivedAt: Date, kind: String, type: String, name: String? = nil, messageId: String? = nil, writeKeyId: UUID? = nil, message: PostgresJSON) {
        self.id = id; self.leadId = leadId; self.occurredAt = occurredAt; self.receivedAt = receivedAt; self.kind = kind; self.type = type; self.name = name; self.messageId = messageId; self.writeKeyId = writeKeyId; self.message = message
    }
}

extension Store {
    /// The engine's events of a lead (tracks and pages), oldest first: backfill after a merge or a
    /// ruleset that adds a signal. `message` holds `{name, properties, context}`.
    public func engineEvents(of lead: UUID) throws -> [Event] {
        try connection.query("""
            SELECT occurred_at, message FROM events WHERE lead_id = \(lead) AND kind IN ('track', 'page', 'screen')
            ORDER BY occurred_at, id
            """).map { row in
            let stored = try row.decode(PostgresJSON.self, "message").decode(StoredEngineEvent.self)
            return Event(name: stored.name, properties: stored.properties ?? [:], context: stored.context ?? [:],
                         occurredAt: try row.decode(Date.self, "occurred_at"), messageId: stored.messageId)
        }
    }
}

/// What idempotency remembers of an applied message.
public struct ProcessedMessage: Sendable {
    public var leadId: UUID
    public var eventId: UUID
    /// The decision JSON answered the first time (read from the decision row the record points
    /// at, or the record's own copy).
    public var response: PostgresJSON?

    package init(leadId: UUID, eventId: UUID, response: PostgresJSON? = nil) {
        self.leadId = leadId; self.eventId = eventId; self.response = response
    }
}

/// The part of a stored message the engine needs to replay it.
struct StoredEngineEvent: Codable {
    var name: String
    var messageId: String?
    var properties: [String: Value]?
    var context: [String: Value]?
}

extension Store {
    /// Creates the monthly `events` partitions for `months` months from the month of `month`
    /// that do not exist yet; returns how many it created.
    public func ensureEventPartitions(from month: Date, months: Int) throws -> Int {
        try connection.query("SELECT leadrouter_ensure_event_partitions(\(month)::date, \(months)::integer)").scalar(Int.self)
    }
}
