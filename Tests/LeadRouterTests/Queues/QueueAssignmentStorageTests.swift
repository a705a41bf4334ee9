import Foundation
import Postgres
import XCTest
@testable import LeadStore
@testable import Segmentation

/// Queue items keep whom assignment skipped packed (`skipped_packed`, migration 0105), and every
/// reader — the queue reads, an acked item's routing answer, an escalation, the privacy export —
/// sees the same `assignment` jsonb as when it was stored whole.
final class QueueAssignmentStorageTests: XCTestCase {
    func testTheSkippedListIsStoredPackedAndReadAsItWasRouted() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [
            ("rep_a", 1, []), ("rep_b", nil, []), ("rep_c", nil, [])])])
        try f.pool.withConnection { _ = try Store($0).setOwnerAvailable("rep_b", available: false) }
        let routed = try (0..<4).map { _ in try f.route(team: "inside") }
        XCTAssertEqual(routed.map(\.ownerId), ["rep_a", "rep_c", "rep_c", "rep_c"])
        try f.pool.withConnection { conn in
            let store = Store(conn)
            let items = Dictionary(uniqueKeysWithValues: try store.queueItems(queue: "high-intent", state: nil, owner: nil, limit: 10, cursor: nil)
                .items.map { ($0.id, $0) })
            for r in routed {
                // What the item said before 0105: the routing answer's skipped list, as jsonb.
                let whole = try conn.query("""
                    SELECT jsonb_build_object('skipped', \(String(decoding: try JSONEncoder().encode(r.skipped), as: UTF8.self))::jsonb)::text AS a
                    """).scalar(String.self)
                XCTAssertEqual(String(decoding: try XCTUnwrap(items[r.itemId]).assignment.bytes, as: UTF8.self), whole)
                let stored = try conn.query("SELECT assignment IS NULL AS packed, skipped_packed FROM queue_items WHERE id = \(r.itemId)")[0]
                XCTAssertTrue(try stored.decode(Bool.self, "packed"), "the jsonb is not stored")
                XCTAssertNotNil(try stored.decode(String?.self, "skipped_packed"))
            }
            XCTAssertEqual(String(decoding: try XCTUnwrap(items[routed[2].itemId]).assignment.bytes, as: UTF8.self),
                           #"{"skipped": [{"step": "round_robin", "reason": "at_capacity (1/1)", "owner_id": "rep_a"}, {"step": "round_robin", "reason": "unavailable", "owner_id": "rep_b"}]}"#)
            XCTAssertEqual(try conn.query("SELECT skipped_packed FROM queue_items WHERE id = \(routed[2].itemId)").scalar(String.self),
                           "r1/1:rep_a,ru:rep_b")

            // The privacy export shows the assignment, not its stored form.
            let lead = try conn.query("SELECT lead_id FROM queue_items WHERE id = \(routed[2].itemId)").scalar(UUID.self)
            let doc = String(decoding: try XCTUnwrap(store.exportRows(.queueItems, lead: lead).documents.first), as: UTF8.self)
            XCTAssertTrue(doc.contains(#""assignment": {"skipped": [{"step": "round_robin", "reason": "at_capacity (1/1)""#), doc)
            XCTAssertFalse(doc.contains("skipped_packed"), doc)

            // Acked, then routed again: the answer is the acked item's, with its skipped list.
            try conn.execute("""
                UPDATE queue_items SET state = 'closed', close_reason = 'acked', closed_at = \(f.clock.now) WHERE id = \(routed[2].itemId)
                """)
            let again = try store.routeToQueue(lead: lead, queue: "high-intent", segment: "decision.high-intent.pricing", team: "inside",
                                               priority: 50, slaDueAt: nil, country: nil, shipToRegion: nil, companyDomain: nil,
                                               memberSince: f.clock.now.addingTimeInterval(-60), now: f.clock.now)
            XCTAssertEqual(again.acked, true)
            XCTAssertEqual(again.skipped, routed[2].skipped)

            // An escalation is kept beside the skipped list, in the jsonb.
            let escalation = RoutedAssignment(teamId: "inside", ownerId: "rep_c", assignedBy: "round_robin", skipped: [])
            try store.markBreached(item: routed[3].itemId, now: f.clock.now, escalation: escalation)
            let escalated = try XCTUnwrap(store.queueItems(ids: [routed[3].itemId], queue: "high-intent").first)
            XCTAssertEqual(String(decoding: escalated.assignment.bytes, as: UTF8.self), """
                {"skipped": [{"step": "round_robin", "reason": "at_capacity (1/1)", "owner_id": "rep_a"}, {"step": "round_robin", "reason": "unavailable", "owner_id": "rep_b"}], \
                "escalation": {"skipped": [], "team_id": "inside", "owner_id": "rep_c", "assigned_by": "round_robin"}}
                """)
            XCTAssertNil(try conn.query("SELECT skipped_packed FROM queue_items WHERE id = \(routed[3].itemId)").scalar(String?.self))
        }
    }
}
