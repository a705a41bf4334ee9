import Foundation
import XCTest

/// The explanation a CRM reads in `GET /v1/leads/{id}/decisions`, end to end over HTTP against
/// PostgreSQL with the sample ruleset: the big-cart entry in the marketer's notation with the cart
/// the event carried, the same facts as `clauses`, and the late pricing request's decay in words.
final class ExplanationOverHTTPTests: XCTestCase {
    var service: TestService!
    var client: TestHTTPClient!
    let start = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    override func setUpWithError() throws {
        service = try TestService(test: self, start: start)
        client = try service.client()
    }

    func track(_ event: String, _ properties: [String: Any], at occurred: Date) throws {
        let body: [String: Any] = ["userId": "u-mara", "event": event, "properties": properties,
                                   "timestamp": iso(occurred), "messageId": UUID().uuidString]
        let response = try client.json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(response.status, 200, response.text)
    }

    func latestExplanation(_ lead: String) throws -> [String: Any] {
        let response = try client.json("GET", "/v1/leads/\(lead)/decisions?limit=1", key: service.readKey)
        XCTAssertEqual(response.status, 200, response.text)
        let decision = (response.json["data"] as? [[String: Any]])?.first ?? [:]
        return decision["explanation"] as? [String: Any] ?? [:]
    }

    func testABigCartEntryReadsAsValuesWithTheCartAndALatePricingRequestSpellsOutItsDecay() throws {
        try track("Product Added", ["product_id": "tent-4p", "price": 250, "quantity": 3], at: start)
        let byUser = try client.json("GET", "/v1/leads?user_id=u-mara", key: service.readKey)
        let leadId = try XCTUnwrap(byUser.json["id"] as? String, byUser.text)

        var explanation = try latestExplanation(leadId)
        let bigCart = try XCTUnwrap(explanation["decision.high-intent.big-cart"] as? [String: Any], "\(explanation)")
        XCTAssertEqual(bigCart["change"] as? String, "entered")
        XCTAssertEqual(bigCart["enter"] as? String,
                       "not lead.customer ✓ and count(added_to_cart where event.properties.price * event.properties.quantity >= 500, 7d) is 1 (this event: price 250, quantity 3), >= 1 ✓")
        XCTAssertNil(bigCart["exit"], "an entry shows no exit line")
        let clauses = try XCTUnwrap(bigCart["clauses"] as? [[String: Any]])
        XCTAssertEqual(clauses.map { $0["holds"] as? Bool }, [true, true])
        XCTAssertEqual(clauses.last?["event"] as? [String: Int], ["price": 250, "quantity": 3])

        // A pricing request that happened 7 days before it arrives: 40 points decayed by its age.
        service.clock.set(start.addingTimeInterval(7 * 86_400))
        try track("Pricing Requested", [:], at: start)
        explanation = try latestExplanation(leadId)
        let score = try XCTUnwrap(explanation["score"] as? [String: Any], "\(explanation)")
        let rules = try XCTUnwrap(score["rules"] as? [[String: Any]])
        let pricing = try XCTUnwrap(rules.first { ($0["rule"] as? String)?.contains("requested_pricing") == true }, "\(rules)")
        XCTAssertEqual(pricing["age"] as? String, "7d")
        XCTAssertEqual(pricing["text"] as? String, "40 points, 7 days ago, half-life 14d → 28.3")
        XCTAssertTrue((score["text"] as? String)?.contains("+ 28.3 = ") == true, "\(score)")
    }
}
