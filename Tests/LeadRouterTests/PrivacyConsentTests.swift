import Foundation
import XCTest

/// Consent end to end (issue 17), with the sample ruleset (email → marketing): a lead whose
/// Segment consent object refuses marketing gets no email action, with reason `consent`; an
/// identify that grants it re-evaluates the lead, and the change is in its history
/// (`lead.consent_changed` in the outbox).
final class PrivacyConsentTests: XCTestCase {
    func testMarketingConsentFalseSuppressesEmailAndFlippingItReEvaluates() throws {
        let service = try TestService(test: self)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let refused: [String: Any] = ["consent": ["categoryPreferences": ["Marketing": false, "Advertising": true]]]
        var r = try service.send("/v1/identify", ["userId": "u-consent", "context": refused, "traits": ["email": "c@example.org"]])
        XCTAssertEqual(r.status, 200, r.text)
        r = try service.client().json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-consent", "event": "Pricing Requested"])
        XCTAssertEqual(r.status, 200, r.text)
        let channels = (r.json["actions"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }
        XCTAssertFalse(channels.contains("email"), "\(r.text)")
        XCTAssertTrue(channels.contains("sales"), "\(r.text)")
        let suppressed = r.json["suppressed"] as? [[String: Any]] ?? []
        XCTAssertTrue(suppressed.contains { $0["channel"] as? String == "email" && $0["reason"] as? String == "consent" }, r.text)
        let lead = try service.client().json("GET", "/v1/leads?user_id=u-consent", key: service.readKey).json
        XCTAssertEqual(((lead["traits"] as? [String: Any])?["consent"] as? [String: Bool]), ["marketing": false, "advertising": true])

        // The person grants marketing (an explicit trait this time): the identify re-evaluates.
        service.clock.advance(60)
        r = try service.send("/v1/identify", ["userId": "u-consent", "traits": ["consent": ["marketing": true]]])
        XCTAssertEqual(r.status, 200, r.text)
        let leadId = try XCTUnwrap(lead["id"] as? String)
        let decisions = try service.client().json("GET", "/v1/leads/\(leadId)/decisions?limit=1", key: service.readKey)
        let latest = try XCTUnwrap((decisions.json["data"] as? [[String: Any]])?.first, decisions.text)
        let now = (latest["actions"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }
        XCTAssertTrue(now.contains("email"), "\(latest)")
        XCTAssertFalse((latest["suppressed"] as? [[String: Any]] ?? []).contains { $0["reason"] as? String == "consent" }, "\(latest)")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'lead.consent_changed'"), 2,
                       "first answer and the change, in the lead's history")
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM outbox WHERE topic = 'lead.consent_changed' AND payload -> 'consent' ->> 'marketing' = 'true'
            """), 1)
    }
}
