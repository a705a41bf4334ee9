import Foundation
import Postgres
import XCTest

/// The queue API end to end: real service, real sockets, real PostgreSQL.
final class QueueAPITests: XCTestCase {
    func event(_ name: String, user: String, email: String? = nil) -> [String: Any] {
        var m: [String: Any] = ["userId": user, "event": name, "properties": [:] as [String: Any]]
        if let email { m["context"] = ["traits": ["email": email]] }
        return m
    }

    func testAPricingRequestLandsInTheQueueAndAnAckMovesTheStatus() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let answer = try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "u1"))
        XCTAssertEqual(answer.status, 200, answer.text)
        let sales = try XCTUnwrap((answer.json["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == "sales" })
        XCTAssertEqual(sales["queue"] as? String, "high-intent")
        XCTAssertEqual(sales["owner_id"] as? String, "rep_anna", "no country: round robin over every member (territory_fallback: all), first in file order")
        XCTAssertEqual(sales["assigned_by"] as? String, "round_robin")
        XCTAssertEqual((sales["skipped"] as? [Any])?.count, 0)
        let itemId = try XCTUnwrap(sales["item_id"] as? String)
        let leadId = try XCTUnwrap(answer.json["lead_id"] as? String)
        // The audit row says the same.
        try service.unpackStoredDocuments()
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM decisions, jsonb_array_elements(decision -> 'actions') a
            WHERE a ->> 'item_id' = '\(itemId)' AND a ->> 'owner_id' = 'rep_anna' AND a ->> 'assigned_by' = 'round_robin'
            """), 1)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["owner_id"] as? String, "rep_anna")
        // Routing the lead again updates its item; no second one.
        let again = try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "u1"))
        let salesAgain = try XCTUnwrap((again.json["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == "sales" })
        XCTAssertEqual(salesAgain["item_id"] as? String, itemId)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items"), 1)

        let listed = try client.json("GET", "/v1/queues/high-intent?state=open&owner=rep_anna", key: queueKey)
        XCTAssertEqual((listed.json["data"] as? [[String: Any]])?.map { $0["id"] as? String }, [itemId])
        let claim = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["owner_id": "rep_anna", "lease_seconds": 120])
        XCTAssertEqual(claim.status, 200, claim.text)
        let claimed = try XCTUnwrap((claim.json["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(claimed["id"] as? String, itemId)
        XCTAssertEqual(claimed["lease_until"] as? String, iso(service.clock.now.addingTimeInterval(120)))
        let token = try XCTUnwrap(claimed["claim_token"] as? String)
        let extended = try client.json("POST", "/v1/queues/high-intent/items/\(itemId)/extend", key: queueKey,
                                       ["claim_token": token, "lease_seconds": 600])
        XCTAssertEqual(extended.status, 200, extended.text)
        let ack = try client.json("POST", "/v1/queues/high-intent/items/\(itemId)/ack", key: queueKey, ["claim_token": token])
        XCTAssertEqual(ack.status, 200, ack.text)
        XCTAssertEqual(ack.json["state"] as? String, "closed")
        XCTAssertEqual(ack.json["close_reason"] as? String, "acked")
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["status"] as? String, "sales_outreach_started")
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state <> 'closed'"), 0, "an acked lead is not queued again")
        let stale = try client.json("POST", "/v1/queues/high-intent/items/\(itemId)/release", key: queueKey, ["claim_token": token])
        XCTAssertEqual(stale.status, 409)
        XCTAssertEqual(stale.header("content-type"), "application/problem+json")
        XCTAssertEqual(stale.json["detail"] as? String, "the item is closed")
        let stats = try client.json("GET", "/v1/queues/high-intent/stats", key: queueKey)
        XCTAssertEqual(stats.json["open"] as? Int, 0)
        XCTAssertEqual(stats.json["median_seconds_to_claim"] as? Double, 0)
    }

    func testLeavingTheSegmentOrUnsubscribingClosesTheItem() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "u2")).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state = 'open'"), 1)
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, event("Unsubscribed", user: "u2")).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state = 'closed' AND close_reason = 'unsubscribed'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items"), 1)

        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "u3")).status, 200)
        service.clock.advance(31 * 86_400)
        XCTAssertGreaterThanOrEqual(try service.app.sweeper.sweepDue(), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state = 'closed' AND close_reason = 'exited_segment'"), 1)
    }

    func testTheServiceClockDrivesSLAEscalation() throws {
        let service = try TestService(test: self) { $0.runQueueWorker = false }
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "s1")).status, 200)
        service.clock.advance(14 * 60)
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 0)
        service.clock.advance(60)   // the pricing route's sla is 15m
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 1)
        let stats = try client.json("GET", "/v1/queues/high-intent/stats", key: queueKey)
        XCTAssertEqual(stats.json["breached"] as? Int, 1)
        XCTAssertEqual(stats.json["open"] as? Int, 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'queue.sla_breached' AND payload ->> 'owner_id' = 'rep_anna'"), 1)
        let item = try XCTUnwrap((try client.json("GET", "/v1/queues/high-intent", key: queueKey).json["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(item["sla_breached_at"] as? String, iso(service.clock.now))
        XCTAssertEqual(item["owner_id"] as? String, "rep_anna", "inside-sales names no escalate_to: the owner stays")
    }

    func testMergedLeadsKeepOneItem() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey,
                                       ["anonymousId": "anon-1", "event": "Pricing Requested", "context": ["traits": ["email": "ana@acme.io"]]]).status, 200)
        XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey,
                                       ["userId": "u-9", "event": "Pricing Requested"]).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state = 'open'"), 2)
        XCTAssertEqual(try client.json("POST", "/v1/identify", key: service.ingestKey,
                                       ["userId": "u-9", "traits": ["email": "ana@acme.io"]]).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE merged_into IS NOT NULL"), 1)
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM queue_items q JOIN leads l ON l.id = q.lead_id WHERE q.state = 'open' AND l.merged_into IS NULL
            """), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE state = 'closed' AND close_reason = 'cancelled'"), 1)
    }

    func testOwnersAndAccountsSteerAssignment() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let off = try client.json("PATCH", "/v1/owners/rep_carla", key: queueKey, ["available": false])
        XCTAssertEqual(off.status, 200, off.text)
        // Every inside-sales member is away (leads no territory covers go to all of them).
        for rep in ["rep_anna", "rep_ben"] {
            XCTAssertEqual(try client.json("PATCH", "/v1/owners/\(rep)", key: queueKey, ["available": false]).status, 200)
        }
        XCTAssertEqual(off.json["available"] as? Bool, false)
        XCTAssertEqual(try client.json("PATCH", "/v1/owners/rep_carla", key: queueKey, ["available": "no"]).status, 400)
        XCTAssertEqual(try client.json("PATCH", "/v1/owners/nobody", key: queueKey, ["available": true]).status, 404)
        XCTAssertEqual(try client.json("PUT", "/v1/accounts/acme-gym.com", key: queueKey, ["owner_id": "ae_dora"]).status, 403)
        XCTAssertEqual(try client.json("PUT", "/v1/accounts/not_a_domain", key: service.adminKey, ["owner_id": "ae_dora"]).status, 400)
        XCTAssertEqual(try client.json("PUT", "/v1/accounts/Acme-Gym.com", key: service.adminKey, ["owner_id": "ae_dora"]).status, 200)

        let account = try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "a1", email: "kim@acme-gym.com"))
        let accountAction = try XCTUnwrap((account.json["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == "sales" })
        XCTAssertEqual(accountAction["owner_id"] as? String, "ae_dora")
        XCTAssertEqual(accountAction["assigned_by"] as? String, "account")

        let nobody = try client.json("POST", "/v1/events", key: service.ingestKey, event("Pricing Requested", user: "a2"))
        let nobodyAction = try XCTUnwrap((nobody.json["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == "sales" })
        XCTAssertNil(nobodyAction["owner_id"] as? String)
        XCTAssertEqual(nobodyAction["assigned_by"] as? String, "unassigned")
        XCTAssertEqual((nobodyAction["skipped"] as? [[String: Any]])?.map { $0["reason"] as? String }, ["unavailable", "unavailable", "unavailable"])

        let owners = try client.json("GET", "/v1/owners", key: queueKey)
        let dora = try XCTUnwrap((owners.json["data"] as? [[String: Any]])?.first { $0["id"] as? String == "ae_dora" })
        XCTAssertEqual(dora["load"] as? Int, 1)
        XCTAssertEqual(dora["open"] as? Int, 1)
        XCTAssertEqual((dora["teams"] as? [[String: Any]])?.map { $0["team"] as? String }, ["enterprise-sales"])
    }

    func testEightHTTPClaimersGetEachOfAThousandItemsOnce() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let conn = try service.connection()
        try conn.execute("INSERT INTO leads (id) SELECT gen_random_uuid() FROM generate_series(1, 1000)")
        try conn.execute("INSERT INTO queue_items (queue, lead_id, priority) SELECT 'bulk', id, random() * 100 FROM leads")
        let claimed = ConcurrentResults<[String]>()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            claimed.record {
                let client = try TestHTTPClient(port: service.port)
                var mine: [String] = []
                while true {
                    let r = try client.json("POST", "/v1/queues/bulk/claim", key: queueKey, ["limit": 7, "lease_seconds": 60])
                    guard r.status == 200, let data = r.json["data"] as? [[String: Any]] else { throw TestClientError(description: r.text) }
                    if data.isEmpty { return mine }
                    mine += data.compactMap { $0["id"] as? String }
                }
            }
        }
        let ids = try claimed.values().flatMap { $0 }
        XCTAssertEqual(ids.count, 1000)
        XCTAssertEqual(Set(ids).count, 1000)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE queue = 'bulk' AND state = 'claimed' AND attempts = 1"), 1000)
    }

    func testScopesAndBadInputAreRefusedWithProblems() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/claim", key: nil, [:] as [String: Any]).status, 401)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/claim", key: service.readKey, [:] as [String: Any]).status, 403)
        XCTAssertEqual(try client.json("GET", "/v1/queues/high-intent", key: service.readKey).status, 403)
        let bad = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["limit": 1000, "wait_seconds": -1])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(bad.header("content-type"), "application/problem+json")
        XCTAssertEqual((bad.json["errors"] as? [[String: Any]])?.compactMap { $0["pointer"] as? String }, ["/limit", "/wait_seconds"])
        let item = UUID().uuidString.lowercased()
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/items/\(item)/ack", key: queueKey, ["claim_token": "x"]).status, 400)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/items/\(item)/ack", key: queueKey, ["claim_token": item]).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/queues/high-intent?state=closed", key: queueKey).status, 400)
        XCTAssertEqual(try client.json("GET", "/v1/queues/Bad%20Name", key: queueKey).status, 404)
        let empty = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, [:] as [String: Any])
        XCTAssertEqual(empty.status, 200)
        XCTAssertEqual((empty.json["data"] as? [Any])?.count, 0)
    }
}
