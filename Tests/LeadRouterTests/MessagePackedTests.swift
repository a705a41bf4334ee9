import Foundation
import Postgres
import XCTest

/// `events.message_packed` (migrations/0095): a stored message is packed, a few dozen bytes
/// instead of ~210 B of jsonb, and every reader gets it back — the export, the archive's
/// source, a merge's move — as do rows written before (jsonb `message`).
final class MessagePackedTests: XCTestCase {
    /// Posts `body` to `path` with its own `messageId` (`TestService.send` stamps a fresh one).
    func send(_ service: TestService, _ path: String, _ body: [String: Any]) throws -> TestResponse {
        service.clock.advance(1)
        var message = body
        message["timestamp"] = iso(service.clock.now)
        return try service.client().json("POST", path, key: service.ingestKey, message)
    }

    func testAMessageIsStoredPackedAndExportedAsItsJSON() throws {
        let service = try TestService(test: self)
        let r = try send(service, "/v1/track", ["userId": "m-1", "event": "Product Viewed", "messageId": "m-1-a",
                                              "properties": ["category": "running-shoes", "price": 289, "product_id": "rs-7"]])
        XCTAssertEqual(r.status, 200, r.text)
        let row = try XCTUnwrap(try service.connection().query("""
            SELECT lead_id, message IS NULL AS plain_null, length(message_packed) AS packed FROM events WHERE message_id = 'm-1-a'
            """).first)
        XCTAssertTrue(try row.decode(Bool.self, "plain_null"), "no jsonb beside the packed message")
        XCTAssertLessThan(try row.decode(Int.self, "packed"), 80, "a product view packs to a few dozen bytes")
        let stored = try XCTUnwrap(try service.storedEvents(where: "message_id = 'm-1-a'").first?.message)
        XCTAssertEqual(stored["messageId"] as? String, "m-1-a")
        XCTAssertEqual(stored["userId"] as? String, "m-1")
        XCTAssertEqual((stored["properties"] as? [String: Any])?["product_id"] as? String, "rs-7")

        // A row written before 0095: its message in jsonb.
        let conn = try service.connection()
        let old = try send(service, "/v1/track", ["userId": "m-1", "event": "Pricing Requested", "messageId": "m-1-b"])
        XCTAssertEqual(old.status, 200, old.text)
        let oldMessage = try XCTUnwrap(try service.storedEvents(where: "message_id = 'm-1-b'").first?.message)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: oldMessage), as: UTF8.self)
        try conn.execute("UPDATE events SET message = \(json)::jsonb, message_packed = NULL WHERE message_id = 'm-1-b'")

        let lead = try row.decode(UUID.self, "lead_id").uuidString.lowercased()
        let export = try service.client().json("GET", "/v1/leads/\(lead)/export", key: service.adminKey)
        XCTAssertEqual(export.status, 200, export.text)
        let events = try XCTUnwrap(export.json["events"] as? [[String: Any]])
        XCTAssertEqual(events.count, 2)
        for event in events {
            XCTAssertNil(event["message_packed"], "the export holds messages as JSON, not packed bytes")
            let message = try XCTUnwrap(event["message"] as? [String: Any], "\(event)")
            XCTAssertEqual(message["messageId"] as? String, event["message_id"] as? String)
        }
        XCTAssertEqual(events.compactMap { ($0["message"] as? [String: Any])?["event"] as? String }.sorted(), ["Pricing Requested", "Product Viewed"])
    }

    func testAMergeMovesPackedMessagesWithTheirEvents() throws {
        let service = try TestService(test: self)
        XCTAssertEqual(try send(service, "/v1/track", ["anonymousId": "anon-m", "event": "Product Viewed", "messageId": "m-2-a",
                                                     "properties": ["category": "tents"]]).status, 200)
        XCTAssertEqual(try send(service, "/v1/identify", ["userId": "m-2", "messageId": "m-2-b", "traits": ["plan": "team"]]).status, 200)
        XCTAssertEqual(try send(service, "/v1/identify", ["userId": "m-2", "anonymousId": "anon-m", "messageId": "m-2-c"]).status, 200)  // merges
        let moved = try service.storedEvents(where: "message_id = 'm-2-a'")
        XCTAssertEqual(moved.count, 1)
        XCTAssertEqual((moved.first?.message["properties"] as? [String: Any])?["category"] as? String, "tents")
        // Both leads had events (packed): whichever survived, the other's moved to it.
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM events e JOIN leads l ON l.id = e.lead_id WHERE l.merged_into IS NULL AND l.user_id = 'm-2'
            """), 3, "every event on the survivor")
        let all = try service.storedEvents()
        XCTAssertEqual(all.count, 3)
        XCTAssertEqual(Set(all.compactMap { $0.message["type"] as? String }), ["track", "identify"], "each with its message")
    }
}
