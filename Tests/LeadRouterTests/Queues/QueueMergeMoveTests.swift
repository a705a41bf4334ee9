import Foundation
import XCTest

/// A merge moves the loser's rows by copying them under the survivor and deleting the
/// originals (Store+MergeMoves, migrations/0077), as Citus needs; what the API shows must be
/// what the old `UPDATE … SET lead_id` gave.
final class QueueMergeMoveTests: XCTestCase {
    /// The older lead has no item, the newer one an open item: after the merge the survivor
    /// holds that item, with the same id, its history saying where it came from, and the lead's
    /// owner; the loser has no item and no events left.
    func testTheLosersOpenItemMovesToTheSurvivorWithItsIdAndEvents() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let older = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-10", "event": "Product Viewed"])
        XCTAssertEqual(older.status, 200, older.text)
        service.clock.advance(60)
        let newer = try client.json("POST", "/v1/events", key: service.ingestKey, ["anonymousId": "anon-10", "event": "Pricing Requested"])
        XCTAssertEqual(newer.status, 200, newer.text)
        let survivor = try XCTUnwrap(older.json["lead_id"] as? String), loser = try XCTUnwrap(newer.json["lead_id"] as? String)
        XCTAssertNotEqual(survivor, loser)
        let conn = try service.connection()
        let item = try conn.query("SELECT id::text, owner_id FROM queue_items WHERE lead_id = \(loser)::uuid AND state = 'open'")
        XCTAssertEqual(item.count, 1)
        let itemId = try item[0].decode(String.self, "id"), owner = try item[0].decode(String?.self, "owner_id")

        service.clock.advance(60)
        let identify = try client.json("POST", "/v1/identify", key: service.ingestKey, ["userId": "u-10", "anonymousId": "anon-10"])
        XCTAssertEqual(identify.status, 200, identify.text)

        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE id = '\(loser)' AND merged_into = '\(survivor)'"), 1)
        let moved = try conn.query("""
            SELECT lead_id::text, state, history -> -1 ->> 'event' AS last_event, history -> -1 ->> 'from_lead' AS from_lead
            FROM queue_items WHERE id = \(itemId)::uuid
            """)
        XCTAssertEqual(moved.count, 1, "one row with the item's id: the copy, the original deleted")
        XCTAssertEqual(try moved[0].decode(String.self, "lead_id"), survivor)
        XCTAssertEqual(try moved[0].decode(String.self, "state"), "open")
        XCTAssertEqual(try moved[0].decode(String?.self, "last_event"), "lead_merged")
        XCTAssertEqual(try moved[0].decode(String?.self, "from_lead"), loser)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE lead_id = '\(loser)'"), 0)
        let lead = try client.json("GET", "/v1/leads/\(survivor)", key: service.readKey)
        XCTAssertEqual(lead.json["owner_id"] as? String, owner, "the owner came with the item")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(loser)'"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(survivor)'"), 3, "both events and the identify")
    }
}
