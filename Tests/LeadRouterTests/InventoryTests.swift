import Foundation
import XCTest
@testable import LeadRouterService

/// `GET /v1/inventory`: fill rates, first/last seen and types kept incrementally by ingest
/// (merges subtract the merged lead), lineage, and the rules whose fields are missing or silent.
final class InventoryTests: XCTestCase {
    func testFieldsFillRatesTypesAndRulesAtRisk() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        let start = service.clock.now
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "i-1", "traits": ["email": "i1@acme.io", "country": "DE", "plan": "pro"]]).status, 200)
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "i-2", "traits": ["email": "i2@acme.io", "plan": 3]]).status, 200)
        XCTAssertEqual(try service.send("/v1/track", ["userId": "i-3", "event": "Product Viewed"]).status, 200)
        // A fourth lead, then merged into i-1 by its email: three leads again.
        XCTAssertEqual(try service.send("/v1/track", ["anonymousId": "anon-i", "event": "Product Viewed"]).status, 200)
        XCTAssertEqual(try service.send("/v1/identify", ["anonymousId": "anon-i", "traits": ["email": "i1@acme.io"]]).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE merged_into IS NULL"), 3)

        let client = try service.client()
        XCTAssertEqual(try client.json("GET", "/v1/inventory", key: service.ingestKey).status, 403)
        var r = try client.json("GET", "/v1/inventory", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["leads"] as? Int, 3, r.text)
        func field(_ name: String) throws -> [String: Any] {
            try XCTUnwrap((r.json["fields"] as? [[String: Any]])?.first { $0["name"] as? String == name }, "no field \(name): \(r.text)")
        }
        XCTAssertEqual(try field("email")["leads"] as? Int, 2)
        XCTAssertEqual(try field("email")["fill_rate"] as? Double, 0.667)
        XCTAssertEqual(try field("email")["first_seen"] as? String, iso(start))
        XCTAssertEqual(try field("country")["fill_rate"] as? Double, 0.333)
        XCTAssertEqual(try field("traits.plan")["types"] as? [String: Int], ["string": 1, "number": 1])
        XCTAssertEqual(try field("status")["leads"] as? Int, 3, "4 leads gained a status, the merged one took its away")
        XCTAssertFalse((try field("company.size")["scoring_rules"] as? [String] ?? []).isEmpty, "lineage: a scoring rule reads it")
        let geography = try XCTUnwrap((r.json["dimensions"] as? [[String: Any]])?.first { $0["name"] as? String == "geography" })
        XCTAssertEqual(geography["share"] as? Double, 0.333)
        XCTAssertEqual(geography["leads_with_data"] as? Int, 1)
        func atRisk() -> [String: [String]] {
            Dictionary(uniqueKeysWithValues: (r.json["rules_at_risk"] as? [[String: Any]] ?? []).map {
                ($0["field"] as? String ?? "", $0["reasons"] as? [String] ?? [])
            })
        }
        XCTAssertEqual(atRisk()["company.size"], ["never_seen", "mostly_missing"], r.text)
        XCTAssertNil(atRisk()["status"], "every lead has one, set today")

        // Eight days without a message: the fields rules read are no longer arriving.
        service.clock.advance(8 * 86_400)
        r = try client.json("GET", "/v1/inventory", key: service.readKey)
        XCTAssertEqual(atRisk()["status"], ["unseen_7d"], r.text)
        XCTAssertEqual(try service.count("SELECT sum(count)::int FROM insight_counts WHERE kind = 'leads'"), 3, "4 created, 1 merged away")
    }
}
