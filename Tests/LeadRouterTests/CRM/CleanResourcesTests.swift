import Foundation
import XCTest

/// Clean resources (issue 22): one score per lead in 3 decimals everywhere, `merged_ids` filled,
/// absent values as `null`, source `direct` without campaign or referrer — already on the
/// first event, so a rule on `lead.source` decides in production as it does in `rules test`.
final class CleanResourcesTests: XCTestCase {
    /// The shipped ruleset plus a segment of direct visitors.
    static func rules() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8) + """

              - name: awareness.early-intent.direct-visitor
                description: Came without campaign or referrer
                priority: 1
                enter: 'lead.source == "direct"'
                exit: 'lead.source != "direct"'

            """
    }

    func testScoresSourcesMergedIdsAndNullsReadTheSameEverywhere() throws {
        let service = try TestService(test: self, rulesYAML: try Self.rules())
        let client = try service.client()
        func event(_ body: [String: Any]) throws -> [String: Any] {
            var m = body
            m["timestamp"] = iso(service.clock.now)
            m["messageId"] = UUID().uuidString
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, m)
            XCTAssertEqual(r.status, 200, r.text)
            return r.json
        }
        func get(_ path: String) throws -> [String: Any] {
            let r = try client.json("GET", path, key: service.readKey)
            XCTAssertEqual(r.status, 200, r.text)
            return r.json
        }

        // A first visit without campaign or referrer: `direct`, and the rule on it holds at once.
        let sentAt = iso(service.clock.now)
        var d = try event(["anonymousId": "clean-1", "event": "Product Viewed", "properties": ["product_id": "p1"]])
        XCTAssertEqual(d["sequence"] as? Int, 1)
        XCTAssertEqual(d["occurred_at"] as? String, sentAt)
        XCTAssertEqual((d["segments"] as? [String: Any])?["entered"] as? [String], ["awareness.early-intent.direct-visitor"])
        let id = try XCTUnwrap(d["lead_id"] as? String)
        var lead = try get("/v1/leads/\(id)")
        XCTAssertEqual(((lead["source"] as? [String: Any])?["first"] as? [String: Any])?["channel"] as? String, "direct")
        XCTAssertEqual(lead["merged_ids"] as? [String], [])

        // Decayed points give a score with many decimals: lead, decision and members agree.
        service.clock.advance(3 * 3600 + 17 * 60 + 13)
        d = try event(["anonymousId": "clean-1", "event": "Product Viewed", "properties": ["product_id": "p2"]])
        service.clock.advance(60)
        d = try event(["anonymousId": "clean-1", "event": "Product Viewed", "properties": ["product_id": "p3"]])
        XCTAssertEqual(d["sequence"] as? Int, 3)
        let score = try XCTUnwrap(d["score"] as? Double)
        XCTAssertNotEqual(score, score.rounded(), "decay left decimals")
        XCTAssertEqual(score, (score * 1000).rounded() / 1000)
        lead = try get("/v1/leads/\(id)")
        XCTAssertEqual(lead["score"] as? Double, score)
        let members = try get("/v1/segments/consideration.mid-intent.browser/members")
        XCTAssertEqual((members["data"] as? [[String: Any]])?.first { $0["lead_id"] as? String == id }?["score"] as? Double, score)
        XCTAssertEqual((members["data"] as? [[String: Any]])?.first?["email"].map { $0 is NSNull }, true, "no email yet: null")

        // A referrer no source rule names (the shop's own pages): `unknown`, not `direct`.
        d = try event(["anonymousId": "clean-2", "event": "Product Viewed", "context": ["page": ["referrer": "https://shop.example.com/"]]])
        let otherId = try XCTUnwrap(d["lead_id"] as? String)
        let other = try get("/v1/leads/\(otherId)")
        XCTAssertEqual(((other["source"] as? [String: Any])?["first"] as? [String: Any])?["channel"] as? String, "unknown")

        // That lead is in no segment: `primary_segment: null` in its segments resource.
        let segments = try get("/v1/leads/\(otherId)/segments")
        XCTAssertTrue(segments.keys.contains("primary_segment"))
        XCTAssertTrue(segments["primary_segment"] is NSNull, "\(segments)")

        // clean-1 logs in with the email of an older lead: the older one survives and lists it.
        let olderSent = try client.json("POST", "/v1/identify", key: service.ingestKey, [
            "userId": "u-clean", "traits": ["email": "older@acme.io"], "timestamp": iso(service.clock.now), "messageId": UUID().uuidString])
        XCTAssertEqual(olderSent.status, 200, olderSent.text)
        let older = try XCTUnwrap(try get("/v1/leads?user_id=u-clean")["id"] as? String)
        _ = try event(["anonymousId": "clean-1", "userId": "u-clean", "event": "Product Viewed"])
        let survivor = try get("/v1/leads/\(id)")
        let mergedIds = Set([id, older]).subtracting([survivor["id"] as? String ?? ""])
        XCTAssertEqual(survivor["merged_ids"] as? [String], Array(mergedIds))
    }
}
