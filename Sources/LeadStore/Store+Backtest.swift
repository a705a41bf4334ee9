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
        /// `occurred_at` to the millisecond (what the engine reads).
        public var at: Timestamp
        public var message: PostgresJSON
        /// The engine's event (`Store.engineEvent(message:at:)`).
        public func decoded() throws -> Event { try Store.engineEvent(message: message, at: at) }
    }

    /// The next page of engine events (tracks, pages, screens) that occurred in `[from, to)`,
    /// ordered by lead then time, after `cursor`: one index range scan per page of the events
    /// primary key. Returns the events (not decoded) and the cursor after the page.
    ///
    /// The rows come in PostgreSQL's binary format (`binaryResults`): the time as the 8 bytes
    /// stored (text, or `extract(epoch …)`'s numeric arithmetic, cost the server a third of its
    /// CPU for the page query), ids as their 16 bytes, a packed message as its bytes (no hex),
    /// a jsonb message as its text behind a version byte (docs/benchmarks/backtest.md).
    public func backtestEventPage(from: Date, to: Date, after cursor: EventCursor?, limit: Int)
        throws -> (events: [StoredEvent], next: EventCursor?) {
        var query: PostgresQuery
        if let cursor {
            query = """
                SELECT lead_id, occurred_at, message, id, message_packed FROM events
                WHERE occurred_at >= \(from) AND occurred_at < \(to) AND kind IN ('track', 'page', 'screen')
                  AND (lead_id, occurred_at, id) > (\(cursor.leadId), timestamptz 'epoch' + \(cursor.micros)::int8 * interval '1 microsecond', \(cursor.id))
                ORDER BY lead_id, occurred_at, id LIMIT \(limit)
                """
        } else {
            query = """
                SELECT lead_id, occurred_at, message, id, message_packed FROM events
                WHERE occurred_at >= \(from) AND occurred_at < \(to) AND kind IN ('track', 'page', 'screen')
                ORDER BY lead_id, occurred_at, id LIMIT \(limit)
                """
        }
        query.binaryResults = true
        let rows = try connection.query(query)
        var events: [StoredEvent] = []
        events.reserveCapacity(rows.count)
        var lead: UUID?
        var micros: Int64 = 0
        let inflater = SmallDeflate.Inflater()   // one stream for the page's packed messages
        for (position, row) in rows.enumerated() {
            // A lead's events are consecutive rows: its id is read once, not per row.
            let id = try lead.flatMap { row.hasSameValue(at: 0, asRow: position - 1) ? $0 : nil } ?? row.uuid(at: 0)
            lead = id
            micros = try row.epochMicroseconds(at: 1)
            let message = row.isNull(at: 4) ? try row.json(at: 2) : try row.withBytes(at: 4) { try PackedJSON.unpack($0, with: inflater) }
            events.append(StoredEvent(leadId: id, at: Timestamp(milliseconds: Self.floorMillis(micros)), message: message))
        }
        guard let lead, rows.count > 0 else { return (events, nil) }
        return (events, EventCursor(leadId: lead, micros: micros, id: try rows[rows.count - 1].uuid(at: 3)))
    }

    /// Microseconds to milliseconds, rounding down as `Timestamp(Date)` does (also before 1970).
    static func floorMillis(_ micros: Int64) -> Int64 { micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000) }

    /// The stored states of `ids` (live or merged; undecodable rows left out), by id.
    public func leadStates(_ ids: [UUID]) throws -> [UUID: LeadState] {
        let (records, _) = try leadRecords(connection.query("""
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leads WHERE id = ANY(\(ids)::uuid[])
            """))
        return Dictionary(records.map { ($0.id, $0.state) }, uniquingKeysWith: { first, _ in first })
    }
}
