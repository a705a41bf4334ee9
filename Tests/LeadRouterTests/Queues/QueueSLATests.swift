import Foundation
import Postgres
import XCTest

/// SLA until first touch and urgency-first claims (issue 21), over HTTP against the sample ruleset.
final class QueueSLATests: XCTestCase {
    func pricing(_ client: TestHTTPClient, _ service: TestService, user: String) throws -> String {
        let r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": user, "event": "Pricing Requested"])
        XCTAssertEqual(r.status, 200, r.text)
        return try XCTUnwrap(QueueOwnershipTests.sales(r)?["item_id"] as? String)
    }

    func testAReleasedItemStillBreachesItsSLA() throws {
        let service = try TestService(test: self) { $0.runQueueWorker = false }
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let itemId = try pricing(client, service, user: "rel")
        service.clock.advance(60)
        let claim = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["lease_seconds": 60])
        let token = try XCTUnwrap((claim.json["data"] as? [[String: Any]])?.first?["claim_token"] as? String)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/items/\(itemId)/release", key: queueKey, ["claim_token": token]).status, 200)
        service.clock.advance(15 * 60)
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 1, "released without a touch: the SLA kept running")
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 0, "breach recorded once")
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'queue.sla_breached'"), 1)
        let stats = try client.json("GET", "/v1/queues/high-intent/stats", key: queueKey)
        XCTAssertEqual(stats.json["breached"] as? Int, 1)
    }

    func testAnExpiredLeaseAndAClaimedItemBreachButAnAckedOneDoesNot() throws {
        let service = try TestService(test: self) { $0.runQueueWorker = false }
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let expired = try pricing(client, service, user: "exp")
        let acked = try pricing(client, service, user: "ack")
        let claim = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["limit": 2, "lease_seconds": 120])
        let tokens = Dictionary(uniqueKeysWithValues: ((claim.json["data"] as? [[String: Any]]) ?? []).map {
            ($0["id"] as! String, $0["claim_token"] as! String) })
        XCTAssertEqual(tokens.count, 2)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/items/\(acked)/ack", key: queueKey,
                                       ["claim_token": tokens[acked]!]).status, 200)
        service.clock.advance(180)
        XCTAssertEqual(try service.app.queues.worker.reopenExpiredLeases(), 1)
        service.clock.advance(13 * 60)
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE sla_breached_at IS NOT NULL AND id = '\(expired)'"), 1)
        // A claimed item breaches too, keeping its claimer and owner.
        let third = try pricing(client, service, user: "held")
        let held = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["limit": 5, "lease_seconds": 3600])
        XCTAssertTrue(((held.json["data"] as? [[String: Any]]) ?? []).contains { $0["id"] as? String == third })
        service.clock.advance(16 * 60)
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 1)
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM queue_items WHERE id = '\(third)' AND state = 'claimed' AND sla_breached_at IS NOT NULL
            """), 1)
    }

    func testClaimsTakeTheSLADueSoonestFirstUnlessOrderIsPriority() throws {
        let service = try TestService(test: self) { $0.runQueueWorker = false }
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        // A big cart: 1 h SLA, score 60.
        for _ in 0..<3 {
            XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, [
                "userId": "cart", "event": "Product Added", "properties": ["price": 300, "quantity": 2]]).status, 200)
        }
        for _ in 0..<2 {
            XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, [
                "userId": "cart", "event": "Checkout Started", "properties": ["value": 600]]).status, 200)
        }
        service.clock.advance(60)
        let pricingItem = try pricing(client, service, user: "price")   // 15 min SLA, score 40
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE queue = 'high-intent'"), 2)
        let listed = try client.json("GET", "/v1/queues/high-intent", key: queueKey)
        XCTAssertEqual((listed.json["data"] as? [[String: Any]])?.first?["id"] as? String, pricingItem, "claim order")
        let byPriority = try client.json("GET", "/v1/queues/high-intent?order=priority", key: queueKey)
        XCTAssertEqual((byPriority.json["data"] as? [[String: Any]])?.last?["id"] as? String, pricingItem)
        XCTAssertEqual(try client.json("GET", "/v1/queues/high-intent?order=score", key: queueKey).status, 400)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["order": "fifo"]).status, 400)

        let first = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, [:] as [String: Any])
        XCTAssertEqual((first.json["data"] as? [[String: Any]])?.first?["id"] as? String, pricingItem, "due soonest first")
        let token = try XCTUnwrap((first.json["data"] as? [[String: Any]])?.first?["claim_token"] as? String)
        XCTAssertEqual(try client.json("POST", "/v1/queues/high-intent/items/\(pricingItem)/release", key: queueKey, ["claim_token": token]).status, 200)
        let second = try client.json("POST", "/v1/queues/high-intent/claim", key: queueKey, ["order": "priority"])
        XCTAssertNotEqual((second.json["data"] as? [[String: Any]])?.first?["id"] as? String, pricingItem, "order=priority: the big cart")
    }
}
