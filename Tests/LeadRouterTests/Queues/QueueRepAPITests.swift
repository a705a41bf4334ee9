import Foundation
import Postgres
import XCTest

/// A queue API a rep can use, and fair assignment (issue 21), over HTTP against the sample ruleset.
final class QueueRepAPITests: XCTestCase {
    func testItemsCarryALeadSummaryAndAnOwnerSeesWhatTheyHoldAcrossQueues() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/identify", key: service.ingestKey, [
            "userId": "s1", "traits": ["email": "lena@shop-fit.de", "firstName": "Lena", "lastName": "Roth", "country": "DE",
                                       "company": ["name": "Shop Fit"]]]).status, 200)
        let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "s1", "event": "Pricing Requested"])
        XCTAssertEqual(QueueOwnershipTests.sales(pricing)?["owner_id"] as? String, "rep_anna")
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "s2", "event": "Demo Requested",
                                                                                    "context": ["traits": ["country": "AT"]]]).status, 200)
        let listed = try client.json("GET", "/v1/queues/high-intent", key: queueKey)
        let lead = try XCTUnwrap((listed.json["data"] as? [[String: Any]])?.first?["lead"] as? [String: Any], listed.text)
        XCTAssertEqual(lead["email"] as? String, "lena@shop-fit.de")
        XCTAssertEqual(lead["name"] as? String, "Lena Roth")
        XCTAssertEqual(lead["company"] as? String, "Shop Fit")
        XCTAssertEqual(lead["country"] as? String, "DE")
        XCTAssertEqual(lead["score"] as? Double, 40)
        XCTAssertEqual(lead["primary_segment"] as? String, "decision.high-intent.pricing")
        XCTAssertNotNil(lead["last_event_at"] as? String)
        XCTAssertEqual(lead["why"] as? String, "in segment decision.high-intent.pricing; owner by territory")

        let held = try client.json("GET", "/v1/owners/rep_anna/items", key: queueKey)
        XCTAssertEqual(held.status, 200, held.text)
        let queues = ((held.json["data"] as? [[String: Any]]) ?? []).map { $0["queue"] as? String }
        XCTAssertEqual(Set(queues), ["high-intent", "demos"], "what rep_anna holds, across queues")
        XCTAssertNotNil((held.json["data"] as? [[String: Any]])?.first?["lead"])
    }

    func testUnknownQueuesAndOwnersAnswer404WithTheKnownNames() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let queue = try client.json("GET", "/v1/queues/hi-intent", key: queueKey)
        XCTAssertEqual(queue.status, 404)
        XCTAssertEqual(queue.json["detail"] as? String, "no queue named 'hi-intent'; known queues: accounts, demos, enterprise, high-intent")
        XCTAssertEqual(try client.json("POST", "/v1/queues/hi-intent/claim", key: queueKey, [:] as [String: Any]).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/queues/hi-intent/stats", key: queueKey).status, 404)
        let owner = try client.json("GET", "/v1/queues/high-intent?owner=rep_anne", key: queueKey)
        XCTAssertEqual(owner.status, 404)
        XCTAssertTrue((owner.json["detail"] as? String ?? "").hasPrefix("no owner 'rep_anne'; known owners: ae_dora, ae_emil, am_farah, rep_anna"), owner.text)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["owner_id": "rep_anne"]).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/owners/rep_anne/items", key: queueKey).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/owners/rep_anna/items", key: queueKey).status, 200)
    }

    func testLeadsNoTerritoryCoversAreSharedByEveryMember() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        var owners: [String] = []
        for i in 0..<6 {
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "us\(i)", "event": "Pricing Requested",
                                                                                  "context": ["traits": ["country": "US"]]])
            owners.append(QueueOwnershipTests.sales(r)?["owner_id"] as? String ?? "-")
        }
        XCTAssertEqual(owners, ["rep_anna", "rep_ben", "rep_carla", "rep_anna", "rep_ben", "rep_carla"], "territory_fallback: all")
    }

    func testTheOldFunnelIsAvailableAsUnassignedMembers() throws {
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  inside-sales:\n    strategy: round_robin\n", with: "  inside-sales:\n    strategy: round_robin\n    territory_fallback: unassigned_members\n")
        let service = try TestService(test: self, rulesYAML: yaml)
        let client = try service.client()
        for i in 0..<3 {
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "fr\(i)", "event": "Pricing Requested"])
            XCTAssertEqual(QueueOwnershipTests.sales(r)?["owner_id"] as? String, "rep_carla")
        }
    }

    func testALateCountryReassignsAnUnclaimedItemAndContextGeographyCounts() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let first = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "late", "event": "Pricing Requested"])
        let leadId = try XCTUnwrap(first.json["lead_id"] as? String)
        XCTAssertEqual(QueueOwnershipTests.sales(first)?["owner_id"] as? String, "rep_anna", "round robin: no country yet")
        let identify = try client.json("POST", "/v1/identify", key: service.ingestKey, ["userId": "late", "traits": ["country": "GB"]])
        XCTAssertEqual(identify.status, 200, identify.text)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["owner_id"] as? String, "rep_ben")
        let item = try XCTUnwrap((try client.json("GET", "/v1/queues/high-intent", key: queueKey).json["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(item["owner_id"] as? String, "rep_ben")
        XCTAssertEqual(item["assigned_by"] as? String, "territory")
        let history = (item["history"] as? [[String: Any]]) ?? []
        XCTAssertEqual(history.last?["event"] as? String, "reassigned")
        XCTAssertEqual(history.last?["from_owner"] as? String, "rep_anna")
        XCTAssertEqual(history.last?["country"] as? String, "GB")

        // context.location.country (a name) and context.timezone give a country when traits do not.
        let located = try client.json("POST", "/v1/events", key: service.ingestKey, [
            "userId": "loc", "event": "Pricing Requested", "context": ["location": ["country": "Germany"]]])
        XCTAssertEqual(QueueOwnershipTests.sales(located)?["owner_id"] as? String, "rep_anna")
        XCTAssertEqual(QueueOwnershipTests.sales(located)?["assigned_by"] as? String, "territory")
        let zoned = try client.json("POST", "/v1/events", key: service.ingestKey, [
            "userId": "tz", "event": "Pricing Requested", "context": ["timezone": "Europe/Dublin"]])
        XCTAssertEqual(QueueOwnershipTests.sales(zoned)?["owner_id"] as? String, "rep_ben")
        let lead = try client.json("GET", "/v1/leads?user_id=tz", key: service.readKey).json
        XCTAssertEqual(lead["country"] as? String, "IE")

        // A claimed item keeps its owner when the country arrives.
        let claimedFirst = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "busy", "event": "Pricing Requested"])
        let owner = QueueOwnershipTests.sales(claimedFirst)?["owner_id"] as? String
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["owner_id": owner ?? "", "limit": 5]).status, 200)
        XCTAssertEqual(try client.json("POST", "/v1/identify", key: service.ingestKey, ["userId": "busy", "traits": ["country": "CH"]]).status, 200)
        let busy = try client.json("GET", "/v1/leads?user_id=busy", key: service.readKey).json
        XCTAssertEqual(busy["owner_id"] as? String, owner)
    }
}
