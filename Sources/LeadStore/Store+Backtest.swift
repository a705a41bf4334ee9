import Foundation
import Postgres
import Segmentation

/// Where a backtest's walk over stored events stands: the last row read, in the events primary
/// key's order (lead, time as epoch microseconds, id), so no row is skipped or read twice.
public struct EventCursor: Sendable, Equatable {
    public var leadId: UUID
    public var micros: Int64
    public var id: UUID
}

extension Store {
    /// A stored event not decoded yet (the backtest decodes on several threads).
    public struct StoredEvent: Sendable {
        public var leadId: UUID
        public var occurredAt: Date
        public var message: PostgresJSON
        /// The engine's event (`Store.engineEvent(message:occurredAt:)`).
        public func decoded() throws -> Event { try Store.engineEvent(message: message, occurredAt: occurredAt) }
    }

    /// The next page of engine events (tracks, pages, screens) that occurred in `[from, to)`,
    /// ordered by lead then time, after `cursor`: one index range scan per page of the events
    /// primary key. Returns the events (not decoded) and the cursor after the page.
    public func backtestEventPage(from: Date, to: Date, after cursor: EventCursor?, limit: Int)
        throws -> (events: [StoredEvent], next: EventCursor?) {
        let rows: PostgresRows
        if let cursor {
            rows = try connection.query("""
                SELECT lead_id, id, (extract(epoch FROM occurred_at) * 1000000)::int8 AS at_micros, occurred_at, message FROM events
                WHERE occurred_at >= \(from) AND occurred_at < \(to) AND kind IN ('track', 'page', 'screen')
                  AND (lead_id, occurred_at, id) > (\(cursor.leadId), timestamptz 'epoch' + \(cursor.micros)::int8 * interval '1 microsecond', \(cursor.id))
                ORDER BY lead_id, occurred_at, id LIMIT \(limit)
                """)
        } else {
            rows = try connection.query("""
                SELECT lead_id, id, (extract(epoch FROM occurred_at) * 1000000)::int8 AS at_micros, occurred_at, message FROM events
                WHERE occurred_at >= \(from) AND occurred_at < \(to) AND kind IN ('track', 'page', 'screen')
                ORDER BY lead_id, occurred_at, id LIMIT \(limit)
                """)
        }
        var events: [StoredEvent] = []
        events.reserveCapacity(rows.count)
        var next: EventCursor?
        for row in rows {
            let lead = try row.decode(UUID.self, "lead_id")
            events.append(StoredEvent(leadId: lead, occurredAt: try row.decode(Date.self, "occurred_at"),
                                      message: try row.decode(PostgresJSON.self, "message")))
            next = EventCursor(leadId: lead, micros: try row.decode(Int64.self, "at_micros"), id: try row.decode(UUID.self, "id"))
        }
        return (events, next)
    }

    /// The stored states of `ids` (live or merged; undecodable rows left out), by id.
    public func leadStates(_ ids: [UUID]) throws -> [UUID: LeadState] {
        let (records, _) = try LeadRecord.decodedEach(connection.query("""
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leads WHERE id = ANY(\(ids)::uuid[])
            """))
        return Dictionary(records.map { ($0.id, $0.state) }, uniquingKeysWith: { first, _ in first })
    }
}
