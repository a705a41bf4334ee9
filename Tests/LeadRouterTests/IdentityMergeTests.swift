import Foundation
import XCTest

/// Identity resolution: anonymous browsing then identify; two leads tied by one message merge
/// (the older survives and takes identities, events, memberships, signals and score).
final class IdentityMergeTests: XCTestCase {
    func testAnonymousBrowsingThenIdentifyWithEmailMergesIntoTheOlderLead() throws {
        let service = try TestService(test: self)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let client = try service.client()
        func send(_ path: String, _ body: [String: Any]) throws {
            var message = body
            message["timestamp"] = iso(service.clock.now)
            message["messageId"] = UUID().uuidString
            let response = try client.json("POST", path, key: service.ingestKey, message)
            XCTAssertEqual(response.status, 200, response.text)
        }
        // A known customer record (older): identified by user id and email, working at a company.
        try send("/v1/identify", ["userId": "u-42", "traits": ["email": "Ana@Acme.io", "name": "Ana"]])
        service.clock.advance(3600)
        // Someone browses anonymously: a new lead.
        for product in ["p1", "p2", "p3"] {
            try send("/v1/track", ["anonymousId": "anon-7", "event": "Product Viewed", "properties": ["product_id": product]])
            service.clock.advance(60)
        }
        let anonymous = try client.json("GET", "/v1/leads?anonymous_id=anon-7", key: service.readKey).json
        let anonymousId = try XCTUnwrap(anonymous["id"] as? String)
        XCTAssertEqual(anonymous["segments"] as? [String], ["consideration.mid-intent.browser"])
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 2)

        // They log in: the message carries the anonymous id and the email of the older lead.
        try send("/v1/identify", ["anonymousId": "anon-7", "traits": ["email": "ana@acme.io"]])

        let byEmail = try client.json("GET", "/v1/leads?email=ANA@acme.io", key: service.readKey).json
        let survivorId = try XCTUnwrap(byEmail["id"] as? String)
        XCTAssertNotEqual(survivorId, anonymousId, "the older lead survives")
        XCTAssertEqual(byEmail["user_id"] as? String, "u-42")
        XCTAssertEqual(byEmail["anonymous_ids"] as? [String], ["anon-7"])
        XCTAssertEqual(byEmail["segments"] as? [String], ["consideration.mid-intent.browser"], "signals came along")
        XCTAssertEqual(byEmail["score"] as? Double ?? 0, 9, accuracy: 0.01, "3 views × 3 points, decayed for 3 minutes")
        XCTAssertEqual((byEmail["company"] as? [String: Any])?["domain"] as? String, "acme.io")
        XCTAssertEqual((byEmail["traits"] as? [String: Any])?["name"] as? String, "Ana")

        // The merged lead answers with the survivor.
        let old = try client.json("GET", "/v1/leads/\(anonymousId)", key: service.readKey).json
        XCTAssertEqual(old["id"] as? String, survivorId)
        let conn = try service.connection()
        XCTAssertEqual(try conn.query("SELECT merged_into FROM leads WHERE id = \(UUID(uuidString: anonymousId)!)").scalar(UUID?.self),
                       UUID(uuidString: survivorId))
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(survivorId)'"), 5)
        XCTAssertEqual(try service.count("SELECT count(*) FROM identities WHERE lead_id = '\(survivorId)'"), 3)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships WHERE lead_id = '\(survivorId)'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships WHERE lead_id = '\(anonymousId)'"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'lead.merged'"), 1)
        XCTAssertEqual(service.app.ingest.counters.snapshot.merges, 1)

        // Later events by any of its ids land on the survivor.
        try send("/v1/track", ["anonymousId": "anon-7", "event": "Product Viewed", "properties": ["product_id": "p4"]])
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(survivorId)'"), 6)
    }

    func testInvalidEmailIsKeptAsTraitAndFreeMailGivesNoCompany() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        var r = try client.json("POST", "/v1/identify", key: service.ingestKey, [
            "userId": "u-1", "traits": ["email": "not an email", "address": ["country": "Austria", "state": "Tirol"]]])
        XCTAssertEqual(r.status, 200, r.text)
        r = try client.json("POST", "/v1/identify", key: service.ingestKey, ["userId": "u-2", "traits": ["email": "bob@gmail.com"]])
        XCTAssertEqual(r.status, 200, r.text)
        let one = try client.json("GET", "/v1/leads?user_id=u-1", key: service.readKey).json
        XCTAssertTrue(one["email"] is NSNull)
        XCTAssertEqual((one["traits"] as? [String: Any])?["email"] as? String, "not an email")
        XCTAssertEqual(one["country"] as? String, "AT")
        XCTAssertEqual(one["region"] as? String, "Tirol")
        let two = try client.json("GET", "/v1/leads?email=bob@gmail.com", key: service.readKey).json
        XCTAssertEqual(two["user_id"] as? String, "u-2")
        XCTAssertTrue((two["company"] as? [String: Any])?["domain"] is NSNull)
        XCTAssertEqual(service.app.ingest.counters.snapshot.invalidEmails, 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM identities WHERE kind = 'email'"), 1)
    }

    func testGroupSetsCompanyAndAliasMergesPreviousId() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        var r = try client.json("POST", "/v1/group", key: service.ingestKey, [
            "userId": "u-9", "groupId": "acct-1",
            "traits": ["website": "https://www.Shop-Fit.de/about", "employees": "51-200", "industry": "Fitness",
                       "tech_stack": ["shopify", "klaviyo"]]])
        XCTAssertEqual(r.status, 200, r.text)
        let lead = try client.json("GET", "/v1/leads?user_id=u-9", key: service.readKey).json
        let company = lead["company"] as? [String: Any]
        XCTAssertEqual(company?["domain"] as? String, "shop-fit.de")
        XCTAssertEqual(company?["size"] as? Double, 51)
        XCTAssertEqual(company?["industry"] as? String, "fitness")
        XCTAssertEqual(company?["tech_stack"] as? [String], ["shopify", "klaviyo"])
        XCTAssertEqual(lead["segments"] as? [String], ["consideration.mid-intent.b2b-smb"])

        service.clock.advance(60)
        r = try client.json("POST", "/v1/track", key: service.ingestKey, ["anonymousId": "a-9", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 2)
        r = try client.json("POST", "/v1/alias", key: service.ingestKey, ["userId": "u-9", "previousId": "a-9"])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE merged_into IS NULL"), 1)
        let merged = try client.json("GET", "/v1/leads?anonymous_id=a-9", key: service.readKey).json
        XCTAssertEqual(merged["id"] as? String, lead["id"] as? String)
    }
}
