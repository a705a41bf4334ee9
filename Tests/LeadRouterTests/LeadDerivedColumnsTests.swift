import Foundation
import Postgres
import XCTest
@testable import Ingest
@testable import LeadRouterService
@testable import LeadStore

/// What a lead row no longer stores (issue 23 target 7): its current segments, the keys of
/// `segment_entered` (migration 0106 dropped the `segments` copy), and an empty tech stack (NULL
/// since 0107). The lead record and the privacy export read them as before.
final class LeadDerivedColumnsTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    func send(_ app: LeadRouterApp, _ clock: ManualClock, _ kind: SegmentMessage.Kind, _ json: String) throws -> UUID {
        let message = try SegmentMessageDecoder().decodeSingle(Array(json.utf8), kind: kind, receivedAt: clock.now)
        return try app.ingest.ingest(message, writeKey: UUID()).leadId
    }

    func exported(_ app: LeadRouterApp, _ lead: UUID) throws -> [String: Any] {
        try app.pool.withConnection { conn in
            let doc = try Store(conn).exportRows(.leads, lead: lead).documents.first!
            return try JSONSerialization.jsonObject(with: Data(doc)) as! [String: Any]
        }
    }

    func testSegmentsAndAnEmptyTechStackAreReadAsBeforeWithoutBeingStored() throws {
        try LeadSourceLastTests.withNode(at: t0) { node, clock in try check(node, clock) }
    }

    func check(_ node: LeadRouterApp, _ clock: ManualClock) throws {
        // Three views in two weeks: consideration.mid-intent.browser (and the views' category segments).
        var lead = UUID()
        for i in 0..<3 {
            clock.set(t0.addingTimeInterval(Double(i) * 60))
            lead = try send(node, clock, .track, #"{"userId": "u-1", "event": "Product Viewed", "properties": {"category": "running-shoes"}}"#)
        }
        let record = try XCTUnwrap(node.pool.withConnection { try Store($0).lead(lead) })
        let current = record.state.memberships.keys.sorted()
        XCTAssertTrue(current.contains("consideration.mid-intent.browser"), "\(current)")
        XCTAssertGreaterThan(current.count, 1, "more than one segment, so their order is checked")
        XCTAssertEqual(record.state.company.techStack, [])
        var doc = try exported(node, lead)
        XCTAssertEqual(doc["segments"] as? [String], current, "the export lists the current segments, sorted, as the column did")
        XCTAssertEqual(doc["company_tech_stack"] as? [String], [])
        try node.pool.withConnection { conn in
            XCTAssertTrue(try conn.query("SELECT company_tech_stack IS NULL AS n FROM leads WHERE id = \(lead)").scalar(Bool.self))
            XCTAssertEqual(try conn.query("""
                SELECT count(*) AS n FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'segments' AND NOT attisdropped
                """).scalar(Int.self), 0)
        }

        // A tech stack is stored and read as it was.
        clock.set(t0.addingTimeInterval(600))
        XCTAssertEqual(try send(node, clock, .identify, #"{"userId": "u-1", "traits": {"company": {"tech_stack": ["shopify", "klaviyo"]}}}"#), lead)
        XCTAssertEqual(try node.pool.withConnection { try Store($0).lead(lead) }?.state.company.techStack, ["shopify", "klaviyo"])
        doc = try exported(node, lead)
        XCTAssertEqual(doc["company_tech_stack"] as? [String], ["shopify", "klaviyo"])
        try node.pool.withConnection { conn in
            XCTAssertEqual(try conn.query("SELECT company_tech_stack FROM leads WHERE id = \(lead)").scalar([String].self), ["shopify", "klaviyo"])
        }
    }
}
