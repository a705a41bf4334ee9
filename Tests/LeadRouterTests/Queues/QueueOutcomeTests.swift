import Foundation
import Postgres
import XCTest

/// Ack outcomes are not statuses, and customers asking for pricing are not new leads again
/// (issue 21), over HTTP against the sample ruleset.
final class QueueOutcomeTests: XCTestCase {
    func claimOne(_ client: TestHTTPClient, key: String, queue: String) throws -> (id: String, token: String) {
        let claim = try client.json("POST", "/v1/queues/\(queue)/claim", key: key, ["lease_seconds": 300])
        let item = try XCTUnwrap((claim.json["data"] as? [[String: Any]])?.first, claim.text)
        return (item["id"] as! String, item["claim_token"] as! String)
    }

    func testAckOutcomesComeFromTheRulesetAndFreeTextGoesToNote() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "o1", "event": "Pricing Requested"])
        let leadId = try XCTUnwrap(pricing.json["lead_id"] as? String)
        let (id, token) = try claimOne(client, key: queueKey, queue: "high-intent")

        let freeText = try client.json("POST", "/v1/queues/high-intent/items/\(id)/ack", key: queueKey,
                                       ["claim_token": token, "outcome": "Left voicemail"])
        XCTAssertEqual(freeText.status, 400, freeText.text)
        let detail = (freeText.json["errors"] as? [[String: Any]])?.first?["detail"] as? String ?? ""
        XCTAssertTrue(detail.contains("contacted, disqualified, meeting_booked, no_answer"), detail)
        XCTAssertTrue(detail.contains("note"), detail)

        let ack = try client.json("POST", "/v1/queues/high-intent/items/\(id)/ack", key: queueKey,
                                  ["claim_token": token, "outcome": "no_answer", "note": "Left voicemail"])
        XCTAssertEqual(ack.status, 200, ack.text)
        XCTAssertEqual(ack.json["outcome"] as? String, "no_answer")
        XCTAssertEqual(ack.json["note"] as? String, "Left voicemail")
        XCTAssertEqual(ack.json["state"] as? String, "closed")
        let lead = try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json
        XCTAssertEqual(lead["status"] as? String, "qualified", "no_answer moves no status")

        // Later events while the lead stays in the segment queue nothing and point at nothing.
        let again = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "o1", "event": "Pricing Requested"])
        XCTAssertNil(QueueOwnershipTests.sales(again), again.text)
        XCTAssertTrue(((again.json["suppressed"] as? [[String: Any]]) ?? []).contains { $0["channel"] as? String == "sales" })
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state <> 'closed'"), 0)
    }

    func testAMeetingBookedMovesTheStatusAndTheAckDecisionHasNoSalesAction() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let demo = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "m1", "event": "Demo Requested"])
        let leadId = try XCTUnwrap(demo.json["lead_id"] as? String)
        let (id, token) = try claimOne(client, key: queueKey, queue: "demos")
        let ack = try client.json("POST", "/v1/queues/demos/items/\(id)/ack", key: queueKey, ["claim_token": token, "outcome": "meeting_booked"])
        XCTAssertEqual(ack.status, 200, ack.text)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["status"] as? String, "meeting_scheduled")
        try service.unpackStoredDocuments()
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM decisions WHERE lead_id = '\(leadId)' AND event_id IS NULL
              AND decision -> 'explanation' -> 'status' ->> 'to' = 'meeting_scheduled'
              AND decision -> 'explanation' -> 'status' ->> 'by' = 'crm'
              AND NOT jsonb_path_exists(decision, '$.actions[*] ? (@.channel == "sales")')
            """), 1, "the ack's decision explains the status move and routes no sales action")
    }

    func testACustomerAskingForPricingStaysConvertedAndGoesToAccountManagement() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "k1", "event": "Order Completed"]).status, 200)
        service.clock.advance(86_400)
        let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "k1", "event": "Pricing Requested"])
        XCTAssertEqual(pricing.status, 200, pricing.text)
        XCTAssertEqual(pricing.json["status"] as? String, "converted")
        XCTAssertEqual(pricing.json["primary_segment"] as? String, "retention.high-intent.account-pricing")
        let sales = try XCTUnwrap(QueueOwnershipTests.sales(pricing))
        XCTAssertEqual(sales["queue"] as? String, "accounts")
        XCTAssertEqual(sales["owner_id"] as? String, "am_farah", pricing.text)
        let status = try XCTUnwrap((pricing.json["explanation"] as? [String: Any])?["status"] as? [String: Any])
        XCTAssertEqual(status["kept"] as? Bool, true)
        XCTAssertEqual(status["from"] as? String, "converted")
    }
}
