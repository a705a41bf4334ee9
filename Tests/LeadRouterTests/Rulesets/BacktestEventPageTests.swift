import Foundation
import LeadStore
import Postgres
import Segmentation
import XCTest

/// `Store.backtestEventPage`, read in PostgreSQL's binary format: every engine event of the
/// period once, in lead then time order across pages, each with its lead, its time floored to
/// the millisecond and its message — packed rows and rows written before migrations/0095 (jsonb
/// `message`) alike — exactly as the same rows read as text give them.
final class BacktestEventPageTests: XCTestCase {
    func testPagesGiveEveryEventOnceAsTheRowsReadAsTextDo() throws {
        let service = try TestService(test: self, start: Date(timeIntervalSince1970: 1_765_000_000.123))
        let start = service.clock.now
        for (n, user) in ["p-1", "p-2", "p-3", "p-1", "p-2", "p-1"].enumerated() {
            service.clock.advance(0.0017)   // times with microseconds, not whole milliseconds
            let r = try service.client().json("POST", "/v1/track", key: service.ingestKey, [
                "userId": user, "event": n % 2 == 0 ? "Product Viewed" : "Pricing Requested", "messageId": "page-\(n)",
                "timestamp": iso(service.clock.now), "properties": ["category": "tents", "price": n, "note": "é\u{1F600}"]])
            XCTAssertEqual(r.status, 200, r.text)
        }
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "p-3", "traits": ["plan": "team"]]).status, 200)  // not an engine event
        let conn = try service.connection()
        // Two rows as written before migrations/0095: their message in jsonb, none packed.
        for id in ["page-1", "page-4"] {
            let message = try XCTUnwrap(try service.storedEvents(where: "message_id = '\(id)'").first?.message)
            let json = String(decoding: try JSONSerialization.data(withJSONObject: message), as: UTF8.self)
            try conn.execute("UPDATE events SET message = \(json)::jsonb, message_packed = NULL WHERE message_id = \(id)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE message_packed IS NULL AND kind = 'track'"), 2)

        // The expectation: the same rows as text, decoded as the engine's events.
        let from = start, to = service.clock.now.addingTimeInterval(1)
        var expected: [(lead: UUID, micros: Int64, event: Event)] = []
        for row in try conn.query("""
            SELECT lead_id, (extract(epoch FROM occurred_at) * 1000000)::int8 AS micros, message, message_packed FROM events
            WHERE occurred_at >= \(from) AND occurred_at < \(to) AND kind IN ('track', 'page', 'screen') ORDER BY lead_id, occurred_at, id
            """) {
            let micros = Int64(try row.decode(Int.self, "micros"))
            let at = Timestamp(milliseconds: micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000))
            let message = try row.decode(Data?.self, "message_packed").map { try PackedJSON.unpack(Array($0)) } ?? row.decode(PostgresJSON.self, "message")
            expected.append((try row.decode(UUID.self, "lead_id"), micros, try Store.engineEvent(message: message, at: at)))
        }
        XCTAssertEqual(expected.count, 6)

        let store = Store(conn)
        for limit in [1, 2, 4, 6, 7] {
            var read: [Store.StoredEvent] = []
            var cursor: EventCursor?
            var pages = 0
            repeat {
                let page = try store.backtestEventPage(from: from, to: to, after: cursor, limit: limit)
                read += page.events
                pages += 1
                if let last = page.events.last {
                    XCTAssertEqual(page.next?.leadId, last.leadId)
                    XCTAssertEqual(page.next?.micros, expected[read.count - 1].micros, "the cursor keeps the microseconds")
                }
                cursor = page.next
                if page.events.count < limit { break }
            } while pages < 20
            XCTAssertEqual(read.count, expected.count, "limit \(limit)")
            for (got, want) in zip(read, expected) {
                XCTAssertEqual(got.leadId, want.lead, "limit \(limit)")
                XCTAssertEqual(got.at, want.event.occurredAt, "limit \(limit)")
                XCTAssertEqual(try got.decoded(), want.event, "limit \(limit)")
            }
        }
    }
}
