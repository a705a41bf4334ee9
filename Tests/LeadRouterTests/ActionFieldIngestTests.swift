import Foundation
import XCTest

/// Choices, templates, `lead.interest` and call scripts end to end over HTTP against PostgreSQL,
/// with the sample ruleset: the interest counts survive between requests (they live on the lead
/// row), the decision carries the filled fields and explains them, and the stored decision is
/// the answer.
final class ActionFieldIngestTests: XCTestCase {
    var service: TestService!
    var client: TestHTTPClient!
    let start = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    override func setUpWithError() throws {
        service = try TestService(test: self, start: start)
        client = try service.client()
    }

    func track(_ event: String, _ properties: [String: Any] = [:], context: [String: Any] = [:], after seconds: Double) throws -> [String: Any] {
        service.clock.set(start.addingTimeInterval(seconds))
        let body: [String: Any] = ["userId": "u-mia", "event": event, "properties": properties, "context": context,
                                   "timestamp": iso(service.clock.now), "messageId": UUID().uuidString]
        let response = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(response.status, 200, response.text)
        return response.json
    }

    func action(_ d: [String: Any], _ channel: String) -> [String: Any]? {
        (d["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == channel }
    }

    func notes(_ d: [String: Any]) -> [[String: Any]] { (d["explanation"] as? [String: Any])?["actions"] as? [[String: Any]] ?? [] }

    func testLandingPageFollowsStoredInterestAndScriptFollowsArrival() throws {
        _ = try track("Product Viewed", ["product_id": "pack-1", "category": "bags & packs"], after: 0)
        _ = try track("Product Viewed", ["product_id": "pack-2", "category": "bags & packs"], after: 60)
        // Only if the first two views were stored on the lead is "bags & packs" still on top.
        var d = try track("Product Viewed", ["product_id": "trail-1", "category": "running-shoes"], after: 120)
        XCTAssertEqual(d["primary_segment"] as? String, "consideration.mid-intent.browser")
        XCTAssertEqual(action(d, "ads")?["landing_page"] as? String, "/c/bags%20%26%20packs")
        XCTAssertEqual(action(d, "email")?["sequence"] as? String, "product-picks")
        let landing = try XCTUnwrap(notes(d).first { $0["field"] as? String == "landing_page" })
        XCTAssertEqual(landing["template"] as? String, "/c/{{ lead.interest.top_category }}")
        let sequence = try XCTUnwrap(notes(d).first { $0["field"] as? String == "sequence" })
        XCTAssertEqual(sequence["choice"] as? Int, 2)
        XCTAssertEqual(sequence["rule"] as? String, #"lead.interest.top_category is "bags & packs", not "running-shoes" ✗; otherwise"#)

        _ = try track("Webinar Attended", ["webinar": "fit-for-spring"], after: 180)
        d = try track("Pricing Requested", [:], after: 240)
        XCTAssertEqual(d["primary_segment"] as? String, "decision.high-intent.pricing")
        XCTAssertEqual(action(d, "sales")?["script"] as? String, "webinar-follow-up")
        let script = try XCTUnwrap(notes(d).first { $0["field"] as? String == "script" })
        XCTAssertEqual(script["choice"] as? Int, 2)

        // The stored decision is the answer, script and explanation included.
        let leadId = try XCTUnwrap(d["lead_id"] as? String)
        let stored = try client.json("GET", "/v1/leads/\(leadId)/decisions?limit=1", key: service.readKey)
        XCTAssertEqual(stored.status, 200, stored.text)
        let latest = try XCTUnwrap((stored.json["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(action(latest, "sales")?["script"] as? String, "webinar-follow-up")
        XCTAssertEqual(notes(latest).count, notes(d).count)
    }

    /// The browser's `context.timezone` is kept on the lead row: the reminder the sweeper decides
    /// an hour later (a decision without event) is timed in Los Angeles, not UTC.
    func testSendAtUsesTheZoneKeptOnTheLead() throws {
        // 09:00Z is 01:00 in Los Angeles (PST, UTC−8, the day after daylight-saving time ended).
        let first = try track("Product Added", ["product_id": "trail-1", "price": 120, "quantity": 1],
                              context: ["timezone": "America/Los_Angeles"], after: 0)
        let leadId = try XCTUnwrap(first["lead_id"] as? String)
        service.clock.set(start.addingTimeInterval(3_600))
        try service.app.sweeper.sweepDue()
        let response = try client.json("GET", "/v1/leads/\(leadId)/decisions?limit=1", key: service.readKey)
        XCTAssertEqual(response.status, 200, response.text)
        let d = try XCTUnwrap((response.json["data"] as? [[String: Any]])?.first)
        XCTAssertEqual((d["segments"] as? [String: Any])?["entered"] as? [String], ["decision.high-intent.cart"])
        XCTAssertEqual(action(d, "email")?["send_at"] as? String, "2026-11-02T16:00:00.000Z")   // 08:00 PST
        let note = try XCTUnwrap(notes(d).first { $0["field"] as? String == "send_at" })
        XCTAssertEqual(note["rule"] as? String, "now, inside 08:00-21:00 in America/Los_Angeles (context.timezone)")
    }

    /// A checkout segment routes email and ads only; once the score reaches route_to_sales the
    /// band's route hands the lead to sales: a queue item in the checkout segment, with an owner.
    func testBandRouteQueuesTheLeadForSales() throws {
        _ = try track("Product Viewed", ["product_id": "trail-1", "category": "running-shoes"], after: 0)
        for k in 1...3 { _ = try track("Product Added", ["product_id": "trail-\(k)", "price": 100, "quantity": 1], after: Double(k) * 60) }
        var d = try track("Checkout Started", ["value": 300], after: 240)
        XCTAssertEqual(d["band"] as? String, "product_email_series")
        XCTAssertNil(action(d, "sales"))
        d = try track("Checkout Started", ["value": 300], after: 300)
        XCTAssertEqual(d["primary_segment"] as? String, "decision.high-intent.checkout")
        XCTAssertEqual(d["band"] as? String, "route_to_sales")
        let sales = try XCTUnwrap(action(d, "sales"))
        XCTAssertEqual(sales["band"] as? String, "route_to_sales")
        XCTAssertEqual(sales["segment"] as? String, "decision.high-intent.checkout")
        XCTAssertNotNil(sales["owner_id"] as? String)
        let itemId = try XCTUnwrap(sales["item_id"] as? String)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE id = '\(itemId)' AND segment = 'decision.high-intent.checkout' AND state = 'open'"), 1)
    }

    /// The sample's email cap for nurture-only leads (3 new emails a day), over separate requests:
    /// the sent log lives on the lead row, so the fourth new sequence of the day is capped.
    func testEmailCapCountsSendsAcrossRequests() throws {
        var d = try track("Guide Downloaded", ["topic": "skin-care-basics"], after: 0)
        XCTAssertEqual(action(d, "email")?["sequence"] as? String, "education-series")
        d = try track("Newsletter Subscribed", after: 3_600)
        XCTAssertEqual(action(d, "email")?["sequence"] as? String, "newsletter-welcome")
        for k in 0..<3 { d = try track("Product Viewed", ["product_id": "p\(k)", "category": "socks"], after: 7_200 + Double(k) * 600) }
        XCTAssertEqual(action(d, "email")?["sequence"] as? String, "product-picks")
        d = try track("Webinar Attended", after: 18_000)
        XCTAssertEqual(d["primary_segment"] as? String, "consideration.mid-intent.webinar")
        XCTAssertNil(action(d, "email"))
        let capped = try XCTUnwrap((d["suppressed"] as? [[String: Any]])?.first { $0["reason"] as? String == "frequency_cap" })
        XCTAssertEqual(capped["channel"] as? String, "email")
        XCTAssertEqual(capped["cap"] as? String, #"max 3 per 1d when lead.band == "nurture_only""#)
    }

    /// The comparer segment's own score over HTTP: the entering page view counts, a later one adds,
    /// and the score is stored between requests.
    func testSegmentScoreInTheDecision() throws {
        for k in 0..<3 { _ = try track("Product Viewed", ["product_id": "p\(k)", "category": "socks"], after: Double(k) * 60) }
        func page(_ path: String, after seconds: Double) throws -> [String: Any] {
            service.clock.set(start.addingTimeInterval(seconds))
            let body: [String: Any] = ["userId": "u-mia", "name": path, "properties": ["path": path],
                                       "timestamp": iso(service.clock.now), "messageId": UUID().uuidString]
            let response = try client.json("POST", "/v1/events", key: service.ingestKey, body.merging(["event": "page_viewed"]) { a, _ in a })
            XCTAssertEqual(response.status, 200, response.text)
            return response.json
        }
        var d = try page("/shipping", after: 300)
        XCTAssertEqual(d["primary_segment"] as? String, "consideration.mid-intent.comparer")
        var scores = try XCTUnwrap(d["segment_scores"] as? [String: Double])
        XCTAssertEqual(scores, ["consideration.mid-intent.comparer": 10])
        d = try page("/returns", after: 360)
        scores = try XCTUnwrap(d["segment_scores"] as? [String: Double])
        XCTAssertEqual(scores["consideration.mid-intent.comparer"] ?? 0, 20, accuracy: 0.01)
    }
}
