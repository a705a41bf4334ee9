import Foundation
import Postgres
import XCTest

/// One open item and one owner per lead (issue 21), over HTTP against the sample ruleset.
final class QueueOwnershipTests: XCTestCase {
    static func event(_ name: String, user: String, properties: [String: Any] = [:]) -> [String: Any] {
        ["userId": user, "event": name, "properties": properties]
    }

    static func sales(_ answer: TestResponse) -> [String: Any]? {
        (answer.json["actions"] as? [[String: Any]])?.first { $0["channel"] as? String == "sales" }
    }

    /// Leads with more than one open item, and leads whose owner is not their open item's owner.
    static func violations(_ service: TestService) throws -> (twoItems: Int, ownerMismatch: Int) {
        (try service.count("SELECT count(*) FROM (SELECT lead_id FROM queue_items WHERE state <> 'closed' GROUP BY lead_id HAVING count(*) > 1) d"),
         try service.count("""
            SELECT count(*) FROM leads l JOIN queue_items q ON q.lead_id = l.id AND q.state <> 'closed'
            WHERE l.owner_id IS DISTINCT FROM q.owner_id
            """))
    }

    func testPricingThenDemoMovesTheOneItemAndKeepsItsOwner() throws {
        let service = try TestService(test: self)
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Pricing Requested", user: "p1"))
        XCTAssertEqual(pricing.status, 200, pricing.text)
        let first = try XCTUnwrap(Self.sales(pricing))
        XCTAssertEqual(first["queue"] as? String, "high-intent")
        let itemId = try XCTUnwrap(first["item_id"] as? String)
        service.clock.advance(120)
        let demo = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Demo Requested", user: "p1"))
        XCTAssertEqual(demo.status, 200, demo.text)
        let moved = try XCTUnwrap(Self.sales(demo))
        XCTAssertEqual(moved["queue"] as? String, "demos")
        XCTAssertEqual(moved["item_id"] as? String, itemId, "the same item, moved")
        XCTAssertEqual(moved["moved_from"] as? String, "high-intent")
        XCTAssertEqual(moved["sla_due_at"] as? String, first["sla_due_at"] as? String, "the decision shows the item's (sooner) SLA")
        XCTAssertEqual(moved["owner_id"] as? String, "rep_anna", "same team: the owner stays")
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE queue = 'demos' AND state = 'open' AND segment = 'decision.high-intent.demo'"), 1)
        // The SLA due time is the sooner one: the pricing item's 15 minutes from its creation.
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM queue_items WHERE sla_due_at = created_at + interval '15 minutes'
            """), 1)
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM outbox WHERE topic = 'queue.item_moved' AND payload -> 'from' ->> 'queue' = 'high-intent'
              AND payload -> 'to' ->> 'queue' = 'demos' AND payload ->> 'item_id' = '\(itemId)'
            """), 1)
        let listed = try client.json("GET", "/v1/queues/demos", key: queueKey)
        let item = try XCTUnwrap((listed.json["data"] as? [[String: Any]])?.first)
        let history = try XCTUnwrap(item["history"] as? [[String: Any]])
        XCTAssertEqual(history.map { $0["event"] as? String }, ["moved"])
        XCTAssertEqual((try client.json("GET", "/v1/queues/high-intent", key: queueKey).json["data"] as? [Any])?.count, 0)
        let v = try Self.violations(service)
        XCTAssertEqual(v.twoItems, 0); XCTAssertEqual(v.ownerMismatch, 0)
    }

    func testCompanyDataArrivingLaterMovesThePricingItemToEnterprise() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Pricing Requested", user: "e1"))
        let leadId = try XCTUnwrap(pricing.json["lead_id"] as? String)
        XCTAssertEqual(Self.sales(pricing)?["owner_id"] as? String, "rep_anna")
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["owner_id"] as? String, "rep_anna")
        service.clock.advance(60)
        let group = try client.json("POST", "/v1/group", key: service.ingestKey, [
            "userId": "e1", "groupId": "acct-big", "traits": ["website": "big-gym.com", "employees": 800, "industry": "Fitness"]])
        XCTAssertEqual(group.status, 200, group.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items"), 1)
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM queue_items WHERE queue = 'enterprise' AND team_id = 'enterprise-sales' AND owner_id = 'ae_dora' AND state = 'open'
            """), 1)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["owner_id"] as? String, "ae_dora")
        XCTAssertEqual(try service.count("""
            SELECT count(*) FROM outbox WHERE topic = 'queue.item_moved' AND payload -> 'from' ->> 'owner_id' = 'rep_anna'
              AND payload -> 'to' ->> 'owner_id' = 'ae_dora'
            """), 1)
    }

    func testEscalationMovesTheOwnerOfItemAndLeadTogether() throws {
        let service = try TestService(test: self) { $0.runQueueWorker = false }
        let client = try service.client()
        XCTAssertEqual(try client.json("POST", "/v1/group", key: service.ingestKey, [
            "userId": "x1", "groupId": "acct", "traits": ["website": "huge-hotel.com", "employees": 5000, "industry": "hospitality"]]).status, 200)
        let demo = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Demo Requested", user: "x1"))
        let leadId = try XCTUnwrap(demo.json["lead_id"] as? String)
        XCTAssertEqual(Self.sales(demo)?["queue"] as? String, "enterprise")
        XCTAssertEqual(Self.sales(demo)?["owner_id"] as? String, "ae_dora")
        service.clock.advance(31 * 60)
        XCTAssertEqual(try service.app.queues.worker.escalateBreaches(), 1)
        let owner = try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey).json["owner_id"] as? String
        XCTAssertEqual(owner, "rep_anna", "escalated to inside-sales; the lead follows its item")
        XCTAssertEqual(try service.count("SELECT count(*) FROM queue_items WHERE owner_id = 'rep_anna' AND team_id = 'inside-sales'"), 1)
        let v = try Self.violations(service)
        XCTAssertEqual(v.twoItems, 0); XCTAssertEqual(v.ownerMismatch, 0)
    }

    func testTheDatabaseRefusesALeadOwnerThatDisagreesWithItsOpenItem() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Pricing Requested", user: "c1"))
        let leadId = try XCTUnwrap((pricing.json["lead_id"] as? String).flatMap(UUID.init(uuidString:)))
        let conn = try service.connection()
        XCTAssertThrowsError(try conn.execute("UPDATE leads SET owner_id = 'rep_ben' WHERE id = \(leadId)")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState?.rawValue, "23000", "\(error)")
        }
        XCTAssertThrowsError(try conn.execute("""
            INSERT INTO queue_items (queue, lead_id) VALUES ('demos', \(leadId))
            """), "a second open item for the lead")
    }

    /// Many leads, random sales-relevant journeys and random claim/release/ack/expiry/escalation;
    /// after every step each lead has at most one open item and the lead's owner is its item's.
    func testRandomJourneysNeverGiveALeadTwoItemsOrTwoOwners() throws {
        let service = try TestService(test: self) { $0.runQueueWorker = false }
        let queueKey = try service.app.createKey(name: "sales-tool", scopes: [.queue])
        let client = try service.client()
        var rng = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["LEADROUTER_SEED"] ?? "") ?? 21)
        let users = (0..<14).map { "r\($0)" }
        let queues = ["high-intent", "demos", "enterprise"]
        var held: [(queue: String, id: String, token: String)] = []
        let steps = 260
        for step in 0..<steps {
            let user = users[Int(rng.next() % UInt64(users.count))]
            let roll = rng.next() % 100
            var what = ""
            switch roll {
            case 0..<14:
                what = "pricing \(user)"
                let r = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Pricing Requested", user: user))
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
            case 14..<24:
                what = "demo \(user)"
                let r = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Demo Requested", user: user))
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
            case 24..<32:
                what = "big cart \(user)"
                let r = try client.json("POST", "/v1/events", key: service.ingestKey,
                                        Self.event("Product Added", user: user, properties: ["price": 300, "quantity": 2]))
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
            case 32..<38:
                what = "enterprise company \(user)"
                let r = try client.json("POST", "/v1/group", key: service.ingestKey, [
                    "userId": user, "groupId": "g-\(user)", "traits": ["website": "\(user)-corp.com", "employees": 900, "industry": "retail"]])
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
            case 38..<43:
                let country = ["DE", "GB", "US", "FR", "AT"][Int(rng.next() % 5)]
                what = "country \(country) \(user)"
                let r = try client.json("POST", "/v1/identify", key: service.ingestKey, ["userId": user, "traits": ["country": country]])
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
            case 43..<46:
                what = "order \(user)"
                let r = try client.json("POST", "/v1/events", key: service.ingestKey, Self.event("Order Completed", user: user))
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
            case 46..<62:
                let queue = queues[Int(rng.next() % 3)]
                what = "claim \(queue)"
                let r = try client.json("POST", "/v1/queues/\(queue)/claim", key: queueKey, ["limit": 2, "lease_seconds": 300])
                XCTAssertEqual(r.status, 200, "\(what): \(r.text)")
                for item in (r.json["data"] as? [[String: Any]]) ?? [] {
                    held.append((queue, item["id"] as! String, item["claim_token"] as! String))
                }
            case 62..<78 where !held.isEmpty:
                let i = Int(rng.next() % UInt64(held.count))
                let h = held.remove(at: i)
                let verb = ["ack", "release", "ack", "extend"][Int(rng.next() % 4)]
                what = "\(verb) \(h.id)"
                let r = try client.json("POST", "/v1/queues/\(h.queue)/items/\(h.id)/\(verb)", key: queueKey, ["claim_token": h.token])
                XCTAssert([200, 409].contains(r.status), "\(what): \(r.status) \(r.text)")
                if verb == "extend", r.status == 200 { held.append(h) }
            case 78..<90:
                let seconds = Double([30, 240, 600, 1_900][Int(rng.next() % 4)])
                what = "advance \(seconds)s, expire and escalate"
                service.clock.advance(seconds)
                try service.app.queues.worker.reopenExpiredLeases()
                try service.app.queues.worker.escalateBreaches()
            case 90..<94:
                what = "sweep after a day"
                service.clock.advance(86_400)
                _ = try service.app.sweeper.sweepDue()
            default:
                what = "owner availability"
                let owner = ["rep_carla", "ae_dora", "rep_anna"][Int(rng.next() % 3)]
                _ = try client.json("PATCH", "/v1/owners/\(owner)", key: queueKey, ["available": rng.next() % 2 == 0])
            }
            let v = try Self.violations(service)
            XCTAssertEqual(v.twoItems, 0, "step \(step) (\(what)): a lead with two open items")
            XCTAssertEqual(v.ownerMismatch, 0, "step \(step) (\(what)): a lead whose owner is not its item's")
            if v.twoItems + v.ownerMismatch > 0 { return }
        }
        XCTAssertGreaterThan(try service.count("SELECT count(*) FROM queue_items"), 5, "the journeys routed leads")
    }
}

