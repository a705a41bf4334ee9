import Foundation
import Postgres
import XCTest

/// `leads.action_packed` (migrations/0094): a lead's action state is stored packed, reads back
/// exactly, is exported as JSON, and a row written before (jsonb `action_state`) still reads and
/// moves to the packed column on its next write.
final class ActionStatePackedTests: XCTestCase {
    func view(_ service: TestService, _ user: String, _ category: String) throws {
        service.clock.advance(30)
        let r = try service.send("/v1/track", ["userId": user, "event": "Product Viewed",
                                               "properties": ["category": category, "product_id": "\(category)-1"]])
        XCTAssertEqual(r.status, 200, r.text)
    }

    func testANewLeadsStateIsStoredPackedAndExportedAsJSON() throws {
        let service = try TestService(test: self)
        try view(service, "packed", "running-shoes")
        let conn = try service.connection()
        let row = try XCTUnwrap(try conn.query("""
            SELECT id, action_state IS NULL AS plain_null, length(action_packed) AS packed FROM leads WHERE user_id = 'packed'
            """).first)
        XCTAssertTrue(try row.decode(Bool.self, "plain_null"), "no jsonb beside the packed state")
        let packed = try row.decode(Int.self, "packed")
        XCTAssertLessThan(packed, 60, "a viewer's interest packs to a few dozen bytes, not ~150 B of jsonb")
        XCTAssertEqual(try service.interestMillis(userId: "packed", category: "running-shoes"), 1000)
        let parts = try XCTUnwrap(try service.actionState(userId: "packed")?["score_parts"] as? [String: Double])
        XCTAssertEqual(parts.values.reduce(0, +), 3, accuracy: 0.001, "a view's 3 points, in the packed state")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id = 'packed' AND score_parts = '{}'"), 1,
                       "the column holds no copy")

        let id = try row.decode(UUID.self, "id").uuidString.lowercased()
        let export = try service.client().json("GET", "/v1/leads/\(id)/export", key: service.adminKey)
        XCTAssertEqual(export.status, 200, export.text)
        let lead = try XCTUnwrap((export.json["leads"] as? [[String: Any]])?.first)
        XCTAssertNil(lead["action_packed"], "the export holds the state as JSON, not its packed bytes")
        let categories = ((lead["action_state"] as? [String: Any])?["interest"] as? [String: Any])?["categories"] as? [String: Any]
        XCTAssertEqual((categories?["running-shoes"] as? Double).map { Int(($0 * 1000).rounded()) }, 1000)
    }

    func testARowWrittenBeforeReadsAndIsPackedOnItsNextWrite() throws {
        let service = try TestService(test: self)
        try view(service, "older", "running-shoes")
        // The row as a binary before 0094 wrote it: the state in jsonb, with a count only it holds.
        let conn = try service.connection()
        var state = try XCTUnwrap(try service.actionState(userId: "older"))
        var interest = try XCTUnwrap(state["interest"] as? [String: Any])
        interest["categories"] = ["tents": 5.0]
        state["interest"] = interest
        // Its score's parts in their column, as then.
        let parts = try XCTUnwrap(state.removeValue(forKey: "score_parts") as? [String: Double])
        let json = String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
        let partsJSON = String(decoding: try JSONSerialization.data(withJSONObject: parts), as: UTF8.self)
        try conn.execute("""
            UPDATE leads SET action_state = \(json)::jsonb, action_packed = NULL, score_parts = \(partsJSON)::jsonb WHERE user_id = 'older'
            """)
        XCTAssertEqual(try service.interestMillis(userId: "older", category: "tents"), 5000)

        try view(service, "older", "running-shoes")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id = 'older' AND action_state IS NULL AND action_packed IS NOT NULL"), 1,
                       "the next write moved the state to the packed column")
        let tents = try XCTUnwrap(try service.interestMillis(userId: "older", category: "tents"))
        XCTAssertEqual(Double(tents), 5000, accuracy: 5, "the old row's counts were read (decayed by 30 s of a 2-week half-life)")
        XCTAssertEqual(try service.interestMillis(userId: "older", category: "running-shoes"), 1000, "and the new view counted beside them")
        let after = try XCTUnwrap(try service.actionState(userId: "older")?["score_parts"] as? [String: Double])
        XCTAssertEqual(after.values.reduce(0, +), 6, accuracy: 0.01, "the column's 3 points were read, the new view's 3 added")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE user_id = 'older' AND score_parts = '{}'"), 1)
    }
}
