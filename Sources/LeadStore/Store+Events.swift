import Foundation
import JSONCoding
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
    /// How many events one query of a lead's history reads at most (`engineEventPages`): a lead
    /// with 20 000 events is read in 21 queries (the last one empty), never held whole. 1 000 stored messages of a few
    /// hundred bytes each keep a page well under a megabyte; the round trips it adds (one per
    /// page, a few milliseconds each) are paid only by merges and signal backfills.
    public static let historyPageSize = 1_000

    /// The engine's events of a lead (tracks and pages), oldest first (`occurred_at`, then `id`),
    /// handed to `body` one page at a time: backfill after a merge or a ruleset that adds a signal.
    /// Each page is one query of at most `pageSize` rows (`LIMIT`), continuing after the last row
    /// of the previous page (keyset: `(occurred_at, id) > (…)`, the events primary key's order
    /// after `lead_id`, so every page is an index range scan). The cursor's time travels as epoch
    /// microseconds (what the column holds), never as a `Date`, so no row is skipped or repeated.
    /// `message` holds `{name, properties, context}`.
    public func engineEventPages(of lead: UUID, pageSize: Int = Store.historyPageSize, _ body: ([Event]) throws -> Void) throws {
        precondition(pageSize > 0, "a page holds at least one event")
        var after: (micros: Int64, id: UUID)?
        while true {
            let rows: PostgresRows
            if let after {
                rows = try connection.query("""
                    SELECT id, (extract(epoch FROM occurred_at) * 1000000)::int8 AS at_micros, occurred_at, message, message_packed FROM events
                    WHERE lead_id = \(lead) AND kind IN ('track', 'page', 'screen')
                      AND (occurred_at, id) > (timestamptz 'epoch' + \(after.micros)::int8 * interval '1 microsecond', \(after.id))
                    ORDER BY occurred_at, id LIMIT \(pageSize)
                    """)
            } else {
                rows = try connection.query("""
                    SELECT id, (extract(epoch FROM occurred_at) * 1000000)::int8 AS at_micros, occurred_at, message, message_packed FROM events
                    WHERE lead_id = \(lead) AND kind IN ('track', 'page', 'screen')
                    ORDER BY occurred_at, id LIMIT \(pageSize)
                    """)
            }
            var page: [Event] = []
            page.reserveCapacity(rows.count)
            for row in rows {
                page.append(try Self.engineEvent(row))
                after = (try row.decode(Int64.self, "at_micros"), try row.decode(UUID.self, "id"))
            }
            if !page.isEmpty { try body(page) }
            if page.count < pageSize { return }
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
    /// The decision row holding the answer when the record has no copy of its own.
    package var decisionId: UUID?

    package init(leadId: UUID, eventId: UUID, response: PostgresJSON? = nil, decisionId: UUID? = nil) {
        self.leadId = leadId; self.eventId = eventId; self.response = response; self.decisionId = decisionId
    }
}

/// The part of a stored message the engine needs to replay it.
extension Store {
    /// The engine's event of an `events` row (columns `occurred_at`, `message`, `message_packed`).
    static func engineEvent(_ row: PostgresRow) throws -> Event {
        try engineEvent(message: storedMessage(row), at: Timestamp(row.decode(Date.self, "occurred_at")))
    }

    /// The message of an `events` row (columns `message`, `message_packed`): unpacked when
    /// packed (migrations/0095), else the jsonb of a row written before or redacted by SQL.
    static func storedMessage(_ row: PostgresRow) throws -> PostgresJSON {
        guard let message = try storedDocument(row, json: "message", packed: "message_packed") else {
            throw PostgresError(code: .decoding, message: "an event row holds no message")
        }
        return message
    }

    /// The engine's event of a stored `events.message` (`{name, messageId, properties, context}`). Read with `JSONReader`, not `JSONDecoder`: a backtest reads
    /// every stored message of its period, and `JSONDecoder` was a quarter of its CPU
    /// (docs/benchmarks/backtest.md). `messageId`, `properties` and `context` may be missing or
    /// null; anything else of the wrong type is refused.
    public static func engineEvent(message: PostgresJSON, at: Timestamp) throws -> Event {
        // The four members read straight off the parsed list (the first of a repeated key, as
        // `LeadRecord.object` keeps it), without hashing them into a dictionary first.
        guard let members = try JSONReader.parseObjectMembers(message.bytes) else {
            throw PostgresError(code: .queryFailed, message: "a lead JSON column is not an object")
        }
        var nameValue: Value?, messageIdValue: Value?, propertiesValue: Value?, contextValue: Value?
        for (key, value) in members {
            switch key {
            case "name": if nameValue == nil { nameValue = value }
            case "messageId": if messageIdValue == nil { messageIdValue = value }
            case "properties": if propertiesValue == nil { propertiesValue = value }
            case "context": if contextValue == nil { contextValue = value }
            default: continue
            }
        }
        func object(_ key: String, _ value: Value?) throws -> [String: Value] {
            switch value {
            case nil, .null?: return [:]
            case .object(let o)?: return o
            default: throw PostgresError(code: .queryFailed, message: "a stored message's `\(key)` is not an object")
            }
        }
        guard case .string(let name)? = nameValue else {
            throw PostgresError(code: .queryFailed, message: "a stored message has no `name`")
        }
        var messageId: String?
        switch messageIdValue {
        case nil, .null?: messageId = nil
        case .string(let id)?: messageId = id
        default: throw PostgresError(code: .queryFailed, message: "a stored message's `messageId` is not a string")
        }
        return Event(name: name, properties: try object("properties", propertiesValue), context: try object("context", contextValue),
                     occurredAt: at, messageId: messageId)
    }
}

extension Store {
    /// Creates the monthly `events` partitions for `months` months from the month of `month`
    /// that do not exist yet; returns how many it created.
    public func ensureEventPartitions(from month: Date, months: Int) throws -> Int {
        try connection.query("SELECT leadrouter_ensure_event_partitions(\(month)::date, \(months)::integer)").scalar(Int.self)
    }
}
