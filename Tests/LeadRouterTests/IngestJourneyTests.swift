import Foundation
import XCTest

/// The main funnel of config/cases/journey-researcher-to-customer.yaml, end to end over HTTP
/// against PostgreSQL: researcher → product comparer → cart abandoner → checkout → customer,
/// every decision checked. The sweeper runs between steps at the manual clock's now.
final class IngestJourneyTests: XCTestCase {
    var service: TestService!
    var client: TestHTTPClient!
    let start = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    override func setUpWithError() throws {
        service = try TestService(test: self, start: start)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        client = try service.client()
    }

    /// Moves the clock to `offset` after start and lets the sweeper catch up, as time would.
    func at(_ offset: Double) throws {
        service.clock.set(start.addingTimeInterval(offset))
        try service.app.sweeper.sweepDue()
    }

    func track(_ event: String, _ properties: [String: Any] = [:], context: [String: Any] = [:]) throws -> [String: Any] {
        let body: [String: Any] = ["userId": "u-lena", "event": event, "properties": properties, "context": context,
                                   "timestamp": iso(service.clock.now), "messageId": UUID().uuidString]
        let response = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(response.status, 200, response.text)
        return response.json
    }

    func page(_ path: String, context: [String: Any] = [:]) throws {
        let body: [String: Any] = ["userId": "u-lena", "name": path, "properties": ["path": path], "context": context,
                                   "timestamp": iso(service.clock.now), "messageId": UUID().uuidString]
        let response = try client.json("POST", "/v1/page", key: service.ingestKey, body)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json["success"] as? Bool, true)
    }

    func latestDecision(_ lead: String) throws -> [String: Any] {
        let response = try client.json("GET", "/v1/leads/\(lead)/decisions?limit=1", key: service.readKey)
        XCTAssertEqual(response.status, 200, response.text)
        return (response.json["data"] as? [[String: Any]])?.first ?? [:]
    }

    func lead(_ id: String) throws -> [String: Any] {
        let response = try client.json("GET", "/v1/leads/\(id)", key: service.readKey)
        XCTAssertEqual(response.status, 200, response.text)
        return response.json
    }

    func segments(_ d: [String: Any], _ key: String) -> [String] { (d["segments"] as? [String: Any])?[key] as? [String] ?? [] }
    func actions(_ d: [String: Any]) -> [[String: String]] {
        (d["actions"] as? [[String: Any]] ?? []).map { $0.compactMapValues { $0 as? String }.filter { $0.key != "segment" } }
    }

    func testResearcherBecomesComparerAbandonsCartChecksOutAndIsACustomer() throws {
        let identify = try client.json("POST", "/v1/identify", key: service.ingestKey, [
            "userId": "u-lena", "traits": ["email": " Lena@Example.com ", "country": "Germany", "ship_to_region": "EU"],
            "timestamp": iso(start.addingTimeInterval(-60)), "messageId": "identify-1"])
        XCTAssertEqual(identify.status, 200, identify.text)
        XCTAssertEqual(identify.json["success"] as? Bool, true)

        try at(0)
        try page("/guides/choosing-running-shoes", context: ["campaign": ["source": "google", "medium": "cpc", "name": "running-fall"]])
        let byUser = try client.json("GET", "/v1/leads?user_id=u-lena", key: service.readKey)
        XCTAssertEqual(byUser.status, 200, byUser.text)
        let leadId = try XCTUnwrap(byUser.json["id"] as? String)
        XCTAssertEqual(byUser.json["email"] as? String, "lena@example.com")
        XCTAssertEqual(byUser.json["country"] as? String, "DE")
        XCTAssertEqual(byUser.json["ship_to_region"] as? String, "EU")
        XCTAssertEqual(((byUser.json["source"] as? [String: Any])?["first"] as? [String: Any])?["channel"] as? String, "paid_search")
        var d = try latestDecision(leadId)
        XCTAssertEqual(d["stage"] as? String, "awareness")
        XCTAssertEqual(segments(d, "current"), [])
        XCTAssertTrue(d["primary_segment"] is NSNull)
        XCTAssertEqual(actions(d), [])
        XCTAssertEqual(d["band"] as? String, "nurture_only")

        try at(5 * 60)
        d = try track("Guide Downloaded", ["topic": "running-shoes", "title": "How to choose running shoes"])
        XCTAssertEqual(d["lead_id"] as? String, leadId)
        XCTAssertEqual(segments(d, "entered"), ["awareness.early-intent.researcher", "consideration.mid-intent.running-shoes"])
        XCTAssertEqual(d["primary_segment"] as? String, "consideration.mid-intent.running-shoes")
        XCTAssertEqual(actions(d), [["channel": "email", "sequence": "running-shoes-series"],
                                    ["channel": "ads", "audience": "running-shoes", "landing_page": "/c/running-shoes"]])

        try at(86_400)
        d = try track("Product Viewed", ["product_id": "trail-runner-2", "category": "running-shoes", "price": 120])
        XCTAssertEqual(segments(d, "exited"), ["awareness.early-intent.researcher"])
        XCTAssertEqual(segments(d, "entered"), ["consideration.mid-intent.ship-eu"])
        XCTAssertEqual(segments(d, "current"), ["consideration.mid-intent.running-shoes", "consideration.mid-intent.ship-eu"])

        try at(86_400 + 600)
        d = try track("Product Viewed", ["product_id": "road-glide-5", "category": "running-shoes", "price": 140])
        XCTAssertEqual(d["stage"] as? String, "consideration")

        try at(86_400 + 1200)
        d = try track("Product Viewed", ["product_id": "merino-socks", "category": "socks", "price": 15])
        XCTAssertEqual(segments(d, "entered"), ["consideration.mid-intent.browser"])
        XCTAssertEqual(d["primary_segment"] as? String, "consideration.mid-intent.running-shoes")

        try at(86_400 + 1800)
        try page("/shipping")
        d = try latestDecision(leadId)
        XCTAssertEqual(segments(d, "entered"), ["consideration.mid-intent.comparer"])
        XCTAssertEqual(d["primary_segment"] as? String, "consideration.mid-intent.comparer")
        XCTAssertEqual(actions(d), [["channel": "email", "sequence": "trust-series"],
                                    ["channel": "ads", "audience": "comparers", "landing_page": "/why-us"]])
        try at(86_400 + 2100)
        try page("/returns")

        try at(86_400 + 2400)
        d = try track("Product Added", ["product_id": "trail-runner-2", "category": "running-shoes", "price": 120, "quantity": 1])
        XCTAssertEqual(d["stage"] as? String, "decision")
        XCTAssertFalse(segments(d, "current").contains("decision.high-intent.cart"))
        XCTAssertEqual(d["next_evaluation_at"] as? String, "2026-11-03T10:40:00.000Z")

        // No event: the sweeper finds the lead due and makes it a cart abandoner.
        try at(86_400 + 3 * 3600)
        var current = try lead(leadId)
        XCTAssertTrue((current["segments"] as? [String] ?? []).contains("decision.high-intent.cart"))
        XCTAssertEqual(current["primary_segment"] as? String, "decision.high-intent.cart")
        let history = try client.json("GET", "/v1/leads/\(leadId)/segments", key: service.readKey).json["history"] as? [[String: Any]] ?? []
        let cartEntry = history.last { $0["segment"] as? String == "decision.high-intent.cart" }
        XCTAssertEqual(cartEntry?["change"] as? String, "entered")
        XCTAssertTrue(cartEntry?["event_id"] is NSNull, "a sweeper decision has no event: \(String(describing: cartEntry))")

        try at(2 * 86_400)
        d = try track("Checkout Started", ["order_id": "o-1001", "value": 120, "currency": "EUR"])
        XCTAssertEqual(segments(d, "entered"), ["decision.high-intent.checkout"])
        XCTAssertTrue(Set(segments(d, "current")).isSuperset(of: ["decision.high-intent.cart", "decision.high-intent.checkout"]))
        XCTAssertEqual(d["primary_segment"] as? String, "decision.high-intent.checkout")
        XCTAssertEqual(actions(d), [["channel": "email", "sequence": "checkout-help"],
                                    ["channel": "ads", "audience": "checkout-starters", "landing_page": "/checkout/help"]])

        try at(2 * 86_400 + 900)
        d = try track("Order Completed", ["order_id": "o-1001", "revenue": 120, "currency": "EUR"])
        XCTAssertEqual(d["status"] as? String, "converted")
        XCTAssertEqual(d["stage"] as? String, "retention")
        XCTAssertEqual(segments(d, "exited"), [
            "consideration.mid-intent.browser", "consideration.mid-intent.comparer", "consideration.mid-intent.running-shoes",
            "consideration.mid-intent.ship-eu", "decision.high-intent.cart", "decision.high-intent.checkout"])
        XCTAssertEqual(segments(d, "current"), [])
        XCTAssertTrue(d["primary_segment"] is NSNull)
        XCTAssertEqual(actions(d), [])
        current = try lead(leadId)
        XCTAssertEqual(current["customer"] as? Bool, true)

        // What was written alongside: memberships empty, history and outbox complete.
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM membership_history WHERE change = 'entered'"), 7)
        XCTAssertEqual(try service.count("SELECT count(*) FROM membership_history WHERE change = 'exited'"), 7)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'segment.entered'"), 7)
        // segment.* data names the segment's owner from the ruleset: marketing for every segment of this journey.
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic LIKE 'segment.%' AND payload->>'owner' = 'marketing'"), 14)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'lead.status_changed'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 11)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions WHERE event_id IS NOT NULL"), 11)
    }
}
