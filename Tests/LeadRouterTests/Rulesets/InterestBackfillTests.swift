import Foundation
import Postgres
import XCTest

/// `lead.interest` on leads that viewed products before any ruleset counted it: activating a
/// ruleset that reads it rebuilds the counts from the stored events — on the lead's next event
/// and in the sweeper's re-evaluation after activation — so the first landing page after the
/// switch already follows what the lead viewed.
final class InterestBackfillTests: XCTestCase {
    /// Version 1 counts no interest (the ruleset of RulesetChangeTests).
    static let before = RulesetChangeTests.before
    static let after = before.replacingOccurrences(of: "version: 1", with: "version: 2")
        .replacingOccurrences(of: "route: { email: { sequence: picks } }",
                              with: #"route: { email: { sequence: picks }, ads: { audience: viewers, landing_page: "/c/{{ lead.interest.top_category }}" } }"#)

    func send(_ service: TestService, _ client: TestHTTPClient, _ user: String, _ event: String, _ properties: [String: Any] = [:]) throws -> [String: Any] {
        service.clock.advance(60)
        let r = try client.json("POST", "/v1/events", key: service.ingestKey, [
            "userId": user, "event": event, "properties": properties, "timestamp": iso(service.clock.now)])
        XCTAssertEqual(r.status, 200, r.text)
        return r.json
    }

    func landingPage(_ decision: [String: Any]) -> String? {
        (decision["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == "ads" }?["landing_page"] as? String
    }

    /// Three views under version 1 (which counts no interest): two of "tents", one of "stoves".
    func viewedBefore(_ service: TestService, _ client: TestHTTPClient, _ user: String) throws {
        for category in ["tents", "stoves", "tents"] {
            _ = try send(service, client, user, "Product Viewed", ["category": category, "product_id": "\(category)-1"])
        }
    }

    func activate(_ service: TestService, _ client: TestHTTPClient) throws {
        let pushed = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": Self.after, "note": "landing pages by interest"])
        XCTAssertEqual(pushed.status, 201, pushed.text)
        let activated = try client.json("POST", "/v1/rulesets/2/activate", key: service.adminKey, [:])
        XCTAssertEqual(activated.status, 200, activated.text)
    }

    func testTheNextEventRebuildsInterestFromStoredViews() throws {
        let service = try TestService(test: self, rulesYAML: Self.before)
        let client = try service.client()
        try viewedBefore(service, client, "early")
        XCTAssertNotNil(try service.connection().query("SELECT id FROM leads WHERE user_id = 'early'").first, "the lead exists")
        XCTAssertNil(try service.actionState(userId: "early")?["interest"], "version 1 counts no interest")
        try activate(service, client)
        // Not a product view: only the stored history can say "tents".
        let decision = try send(service, client, "early", "Product Added")
        XCTAssertEqual(decision["ruleset_version"] as? Int, 2)
        XCTAssertEqual(landingPage(decision), "/c/tents")
        let tents = try service.interestMillis(userId: "early", category: "tents")
        XCTAssertEqual(tents, 2000, "two views minutes ago: 2 (decay over minutes is below the rounding)")

        // A lead created under version 2 is counted from its first event: never backfilled.
        _ = try send(service, client, "late", "Product Added")
        let late = try send(service, client, "late", "Product Viewed", ["category": "stoves", "product_id": "s-2"])
        XCTAssertEqual(landingPage(late), "/c/stoves")
        XCTAssertNotNil((try service.actionState(userId: "late")?["interest"] as? [String: Any])?["at"], "counted since its first view")
    }

    func testReevaluationAfterActivationRebuildsInterest() throws {
        let service = try TestService(test: self, rulesYAML: Self.before)
        let client = try service.client()
        try viewedBefore(service, client, "swept")
        try activate(service, client)
        while try !service.app.sweeper.reevaluationBatch(limit: 10).finished {}
        XCTAssertEqual(try service.interestMillis(userId: "swept", category: "stoves"), 1000)
        let lead = try client.json("GET", "/v1/leads?user_id=swept", key: service.readKey)
        XCTAssertEqual(lead.status, 200, lead.text)
    }
}
