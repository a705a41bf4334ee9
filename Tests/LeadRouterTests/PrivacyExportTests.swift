import Foundation
import Postgres
import XCTest

/// Export (issue 17): everything held about a person, as one JSON document or NDJSON, spooled
/// with bounded memory (RSS is measured by scripts/bench-export.sh, not asserted here).
final class PrivacyExportTests: XCTestCase {
    func testExportHoldsEverySectionAndEveryEventOfAHundredThousand() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        func send(_ path: String, _ body: [String: Any]) throws {
            let r = try service.send(path, body)
            XCTAssertEqual(r.status, 200, r.text)
            service.clock.advance(30)
        }
        try send("/v1/track", ["anonymousId": "anon-x1", "event": "Product Viewed", "properties": ["product_id": "p0"]])
        try send("/v1/identify", ["userId": "u-export", "anonymousId": "anon-x2", "traits": ["email": "export.me@example.org", "country": "DE"]])
        try send("/v1/identify", ["userId": "u-export", "anonymousId": "anon-x1"])  // merges the anonymous lead
        try send("/v1/track", ["userId": "u-export", "event": "Pricing Requested"])
        let id = try XCTUnwrap(try client.json("GET", "/v1/leads?user_id=u-export", key: service.readKey).json["id"] as? String)
        // A long history: 100 000 more events, written straight into the table.
        let conn = try service.connection()
        try conn.execute("""
            INSERT INTO events (lead_id, occurred_at, received_at, kind, type, name, message_id, message)
            SELECT \(UUID(uuidString: id)!), \(service.clock.now) - make_interval(secs => g), \(service.clock.now), 'track', 'product_viewed',
                   'Product Viewed', 'bulk-' || g,
                   jsonb_build_object('type', 'track', 'event', 'Product Viewed', 'messageId', 'bulk-' || g,
                                      'properties', jsonb_build_object('product_id', 'p' || g))
            FROM generate_series(1, 100000) AS g
            """)
        let stored = Set(try conn.query("SELECT id FROM events WHERE lead_id = \(UUID(uuidString: id)!)").map { try $0.decode(UUID.self, "id").uuidString.lowercased() })
        XCTAssertEqual(stored.count, 100_004)

        XCTAssertEqual(try client.json("GET", "/v1/leads/\(id)/export", key: service.readKey).status, 403, "admin only")
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(id)/export?format=xml", key: service.adminKey).status, 400)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(UUID())/export", key: service.adminKey).status, 404)

        let slow = try TestHTTPClient(port: service.port, timeout: 300)
        var started = Date()
        let response = try slow.json("GET", "/v1/leads/\(id)/export", key: service.adminKey)
        print("export of 100 004 events as JSON: \(response.body.count) bytes in \(Date().timeIntervalSince(started)) s")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("content-type"), "application/json")
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], "valid JSON")
        XCTAssertEqual(document["lead_id"] as? String, id)
        XCTAssertEqual((document["lead_ids"] as? [String])?.count, 2, "the merged lead is part of the person")
        let events = try XCTUnwrap(document["events"] as? [[String: Any]])
        XCTAssertEqual(events.count, 100_004)
        XCTAssertEqual(Set(events.compactMap { $0["id"] as? String }), stored, "every event, each once")
        XCTAssertEqual((document["counts"] as? [String: Any])?["events"] as? Int, 100_004)
        let identities = try XCTUnwrap(document["identities"] as? [[String: Any]])
        XCTAssertEqual(Set(identities.compactMap { $0["value"] as? String }), ["u-export", "anon-x1", "anon-x2", "export.me@example.org"])
        let leads = try XCTUnwrap(document["leads"] as? [[String: Any]])
        XCTAssertTrue(leads.contains { $0["email"] as? String == "export.me@example.org" })
        XCTAssertNil(leads.first?["signal_state"])
        XCTAssertFalse((document["decisions"] as? [[String: Any]] ?? []).isEmpty)
        XCTAssertTrue((document["decisions"] as? [[String: Any]] ?? []).contains { ($0["decision"] as? [String: Any])?["explanation"] != nil },
                      "decisions come with their explanations")
        XCTAssertFalse((document["membership_history"] as? [[String: Any]] ?? []).isEmpty)
        XCTAssertEqual((document["queue_items"] as? [[String: Any]])?.count, 1, "the pricing request queued the lead for sales")
        XCTAssertNotNil(document["webhooks"] as? [[String: Any]])
        XCTAssertNotNil(document["memberships"] as? [[String: Any]])

        // NDJSON: one object per line, the same events.
        started = Date()
        let ndjson = try slow.json("GET", "/v1/leads/\(id)/export", key: service.adminKey, headers: ["Accept": "application/x-ndjson"])
        print("export as NDJSON: \(ndjson.body.count) bytes in \(Date().timeIntervalSince(started)) s")
        XCTAssertEqual(ndjson.status, 200)
        XCTAssertEqual(ndjson.header("content-type"), "application/x-ndjson")
        var sections: [String: Int] = [:]
        var eventIds = Set<String>()
        for line in ndjson.body.split(separator: UInt8(ascii: "\n")) {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], "each line is a JSON object")
            let section = try XCTUnwrap(object["section"] as? String)
            sections[section, default: 0] += 1
            if section == "events", let eventId = (object["data"] as? [String: Any])?["id"] as? String { eventIds.insert(eventId) }
        }
        XCTAssertEqual(sections["events"], 100_004)
        XCTAssertEqual(sections["export"], 1)
        XCTAssertEqual(sections["counts"], 1)
        XCTAssertEqual(eventIds, stored)

        // An erased lead has nothing left to export.
        // On `slow`, whose connection the exports kept busy: `client`'s has been idle through both
        // exports (over a minute on Citus), past the server's keep-alive timeout, and this test
        // client does not reconnect when the server closed an idle connection.
        started = Date()
        XCTAssertEqual(try slow.json("DELETE", "/v1/leads/\(id)", key: service.adminKey).status, 200)
        print("erasure of the 100 004-event lead in \(Date().timeIntervalSince(started)) s")
        XCTAssertEqual(try slow.json("GET", "/v1/leads/\(id)/export", key: service.adminKey).status, 410)
    }
}
