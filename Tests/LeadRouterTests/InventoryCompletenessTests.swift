import Foundation
import Postgres
import XCTest
@testable import LeadRouterService
@testable import LeadStore

/// The data inventory's event-made dimensions (product interest, engagement), erased leads
/// leaving the counts, and `insight_counts` folded by age without changing any total.
final class InventoryCompletenessTests: XCTestCase {
    func dimension(_ r: TestResponse, _ name: String) throws -> [String: Any] {
        try XCTUnwrap((r.json["dimensions"] as? [[String: Any]])?.first { $0["name"] as? String == name }, r.text)
    }

    func testProductInterestAndEngagementSharesAndErasedLeadsSubtracted() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        // Lead 1 viewed a product (interest and a score); lead 2 only identified (neither).
        XCTAssertEqual(try service.send("/v1/track", ["userId": "inv-1", "event": "Product Viewed",
                                                      "properties": ["category": "skincare-sets", "product_id": "p-9"]]).status, 200)
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "inv-2", "traits": ["email": "inv2@example.com"]]).status, 200)
        let client = try service.client()
        var r = try client.json("GET", "/v1/inventory", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["leads"] as? Int, 2, r.text)
        let interest = try dimension(r, "product_interest")
        XCTAssertEqual(interest["fields"] as? [String], ["interest.top_category", "interest.top_product"])
        XCTAssertEqual(interest["leads_with_data"] as? Int, 1, r.text)
        XCTAssertEqual(interest["share"] as? Double, 0.5)
        let engagement = try dimension(r, "engagement")
        XCTAssertEqual(engagement["leads_with_data"] as? Int, 1, r.text)
        XCTAssertEqual(engagement["share"] as? Double, 0.5)
        let field = try XCTUnwrap((r.json["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "interest.top_category" })
        XCTAssertEqual(field["types"] as? [String: Int], ["string": 1])

        // Erase lead 1: it leaves the lead count and every field it held.
        let id = try XCTUnwrap(try client.json("GET", "/v1/leads?user_id=inv-1", key: service.readKey).json["id"] as? String)
        XCTAssertEqual(try client.json("DELETE", "/v1/leads/\(id)", key: service.adminKey).status, 200)
        r = try client.json("GET", "/v1/inventory", key: service.readKey)
        XCTAssertEqual(r.json["leads"] as? Int, 1, r.text)
        XCTAssertEqual(try dimension(r, "product_interest")["leads_with_data"] as? Int, 0, r.text)
        XCTAssertEqual(try dimension(r, "engagement")["share"] as? Double, 0)
        XCTAssertEqual(try dimension(r, "intent_stage")["share"] as? Double, 1, "lead 2 keeps its stage and status")
        // Erasing again changes nothing.
        XCTAssertEqual(try client.json("DELETE", "/v1/leads/\(id)", key: service.adminKey).status, 200)
        XCTAssertEqual(try client.json("GET", "/v1/inventory", key: service.readKey).json["leads"] as? Int, 1)
    }

    /// Retention folds hours older than `retention.insight_counts` into one row per name: the
    /// inventory's totals, first/last seen and a key event's last receipt are unchanged; the
    /// drift-window-only kinds go.
    func testOldInsightCountsAreFoldedAndTotalsStayExact() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        let now = service.clock.now
        func hoursAgo(_ h: Double) -> Date { Date(timeIntervalSince1970: ((now.timeIntervalSince1970 / 3600).rounded(.down) - h) * 3600) }
        var rows: [InsightCount] = []
        for h: Double in [4800, 3600, 3120, 10] {  // 200, 150 and 130 days, and 10 hours ago
            let at = hoursAgo(h)
            for (kind, name) in [("leads", "all"), ("lead_field", "email"), ("field_seen", "email"), ("event_type", "product_viewed"),
                                 ("messages", "all"), ("capture", "valid_email"), ("unmapped_event", "Old Name")] {
                rows.append(InsightCount(kind: kind, name: name, hour: at, count: 2, firstSeen: at.addingTimeInterval(60), lastSeen: at.addingTimeInterval(120)))
            }
        }
        try service.app.pool.withConnection { try Store($0).addInsightCounts(rows) }
        let before = try service.app.drift.inventory()
        let lastSeenBefore = try service.app.pool.withConnection { try Store($0).insightLastSeen(kind: "event_type") }

        let report = try service.app.retention.runOnce()
        XCTAssertEqual(report.insightCounts, 3 * 7, "three hours older than 120 days, seven kinds each")
        XCTAssertEqual(try service.count("SELECT count(*) FROM insight_counts WHERE hour < '\(iso(hoursAgo(120 * 24)))' AND hour <> 'epoch'"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM insight_counts WHERE hour = 'epoch'"), 4, "leads, lead_field, field_seen, event_type")
        XCTAssertEqual(try service.count("SELECT count(*) FROM insight_counts WHERE kind IN ('messages', 'capture', 'unmapped_event')"), 3,
                       "only the recent hour's")
        XCTAssertEqual(try service.app.drift.inventory(), before, "the inventory is unchanged")
        XCTAssertEqual(try service.app.pool.withConnection { try Store($0).insightLastSeen(kind: "event_type") }, lastSeenBefore)
        XCTAssertEqual(try service.app.retention.runOnce().insightCounts, 0, "nothing left to fold")
    }
}
