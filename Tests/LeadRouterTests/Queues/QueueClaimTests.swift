import Foundation
import Postgres
import XCTest
@testable import LeadStore
@testable import SalesQueues
@testable import Segmentation

/// Claims, leases and SLA escalation against PostgreSQL (store and worker, no HTTP).
final class QueueClaimTests: XCTestCase {
    func testEightConcurrentClaimersGetEachOfAThousandItemsExactlyOnce() throws {
        let f = try QueueFixture(test: self, teams: [:])
        try f.pool.withTransaction { conn in
            try conn.execute("INSERT INTO leads (id) SELECT gen_random_uuid() FROM generate_series(1, 1000)")
            try conn.execute("""
                INSERT INTO queue_items (queue, lead_id, priority, created_at, updated_at)
                SELECT 'high-intent', id, random() * 100, now(), now() FROM leads
                """)
        }
        let claimed = ConcurrentResults<[UUID]>()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            claimed.record {
                var mine: [UUID] = []
                while true {
                    let items = try f.pool.withTransaction { conn in
                        try Store(conn).claim(queue: "high-intent", owner: nil, claimer: "w\(worker)", limit: 3, leaseSeconds: 60, now: f.clock.now)
                    }
                    if items.isEmpty { return mine }
                    XCTAssertTrue(items.allSatisfy { $0.state == "claimed" && $0.claimToken != nil && $0.claimedBy == "w\(worker)" })
                    XCTAssertEqual(items.map(\.priority), items.map(\.priority).sorted(by: >))
                    mine += items.map(\.id)
                }
            }
        }
        let all = try claimed.values().flatMap { $0 }
        XCTAssertEqual(all.count, 1000)
        XCTAssertEqual(Set(all).count, 1000)
        XCTAssertEqual(try f.count("SELECT count(*) FROM queue_items WHERE state = 'claimed' AND attempts = 1"), 1000)
        XCTAssertGreaterThan(try claimed.values().filter { !$0.isEmpty }.count, 1, "the work was shared")
    }

    func testOwnerClaimsTheirOwnAndUnassignedItemsOnly() throws {
        let f = try QueueFixture(test: self, teams: ["t": QueueFixture.team("t", [("rep_a", nil, []), ("rep_b", nil, [])])])
        try f.route(team: "t", score: 10)   // rep_a
        try f.route(team: "t", score: 20)   // rep_b
        try f.route(team: nil, score: 5)    // unassigned
        let items = try f.pool.withTransaction {
            try Store($0).claim(queue: "high-intent", owner: "rep_a", claimer: "x", limit: 10, leaseSeconds: 60, now: f.clock.now)
        }
        XCTAssertEqual(items.map(\.ownerId), ["rep_a", nil])
        XCTAssertEqual(items.map(\.claimedBy), ["x", "x"])
    }

    func testAnExpiredLeaseGoesBackToOpenAndIsClaimedAgain() throws {
        let f = try QueueFixture(test: self, teams: [:])
        try f.route(team: nil)
        let clock = f.clock
        let worker = QueueWorker(pool: f.pool, clock: { clock.now }, logger: TestDatabases.logger)
        let first = try XCTUnwrap(try f.pool.withTransaction {
            try Store($0).claim(queue: "high-intent", owner: nil, claimer: "a", limit: 1, leaseSeconds: 30, now: clock.now)
        }.first)
        XCTAssertEqual(try worker.reopenExpiredLeases(), 0)
        XCTAssertEqual(try f.pool.withTransaction {
            try Store($0).claim(queue: "high-intent", owner: nil, claimer: "b", limit: 1, leaseSeconds: 30, now: clock.now)
        }.count, 0, "a held lease is not claimable")
        clock.advance(30)
        XCTAssertEqual(try worker.reopenExpiredLeases(), 1)
        let again = try XCTUnwrap(try f.pool.withTransaction {
            try Store($0).claim(queue: "high-intent", owner: nil, claimer: "b", limit: 1, leaseSeconds: 30, now: clock.now)
        }.first)
        XCTAssertEqual(again.id, first.id)
        XCTAssertEqual(again.attempts, 2)
        XCTAssertNotEqual(again.claimToken, first.claimToken)
        XCTAssertEqual(again.firstClaimedAt, first.firstClaimedAt, "time to claim counts the first claim")
        // The first claimer's token is stale now.
        let item = try XCTUnwrap(try f.pool.withTransaction { try Store($0).queueItemForUpdate(first.id, queue: "high-intent") })
        XCTAssertEqual(LeaseRules.decide(item.lease, token: first.claimToken!, operation: .release, now: clock.now),
                       .conflict("the claim token is stale: the item was claimed again"))
    }

    func testItemsNotAckedByTheirSLABreachOnceAndOpenOnesAreEscalated() throws {
        let f = try QueueFixture(test: self, teams: [
            "enterprise": QueueFixture.team("enterprise", strategy: "least_loaded", escalateTo: "inside", [("ae_a", nil, [])]),
            "inside": QueueFixture.team("inside", [("rep_a", nil, [])])])
        let clock = f.clock
        let worker = QueueWorker(pool: f.pool, clock: { clock.now }, logger: TestDatabases.logger)
        // Outbox rows are written only for topics a subscription lists (this one is paused).
        try f.pool.withConnection { try $0.execute("INSERT INTO subscriptions (url, topics, secret, active) VALUES ('http://127.0.0.1:9/', '{queue.sla_breached}', 'x', false)") }
        let late = try f.route(queue: "enterprise", team: "enterprise", sla: 900)
        let claimedInTime = try f.route(queue: "enterprise", team: "enterprise", score: 60, sla: 900)
        XCTAssertEqual(late.ownerId, "ae_a")
        _ = try f.pool.withTransaction {
            try Store($0).claim(queue: "enterprise", owner: nil, claimer: "x", limit: 1, leaseSeconds: 60, now: clock.now)
        }
        clock.advance(899)
        XCTAssertEqual(try worker.escalateBreaches(), 0)
        clock.advance(1)
        // The SLA runs until the first touch (an ack): the claimed item breaches too, but keeps its owner.
        XCTAssertEqual(try worker.escalateBreaches(), 2)
        clock.advance(3600)
        XCTAssertEqual(try worker.escalateBreaches(), 0, "escalated once")
        let open = try f.pool.withTransaction { try Store($0).queueItems(ids: [late.itemId, claimedInTime.itemId], queue: "enterprise") }
        XCTAssertEqual(open.filter { $0.slaBreachedAt != nil }.count, 2)
        let held = try XCTUnwrap(open.first { $0.id == claimedInTime.itemId })
        XCTAssertEqual(held.ownerId, "ae_a", "a claimed item is being worked: not escalated")
        let breached = try XCTUnwrap(open.first { $0.id == late.itemId })
        XCTAssertEqual(breached.ownerId, "rep_a")
        XCTAssertEqual(breached.teamId, "inside")
        XCTAssertEqual(breached.assignedBy, "escalation")
        XCTAssertEqual(breached.slaBreachedAt, Date(timeIntervalSince1970: 1_795_000_900))
        let payload = try f.pool.withConnection { conn in
            try conn.query("SELECT payload FROM outbox WHERE topic = 'queue.sla_breached' AND payload ->> 'escalated_to' IS NOT NULL").map { try $0.decode(PostgresJSON.self, "payload") }
        }
        XCTAssertEqual(payload.count, 1)
        let data = try JSONSerialization.jsonObject(with: Data(payload[0].bytes)) as! [String: Any]
        XCTAssertEqual(data["item_id"] as? String, breached.id.uuidString.lowercased())
        XCTAssertEqual(data["owner_id"] as? String, "ae_a")
        XCTAssertEqual(data["sla_due_at"] as? String, "2026-11-18T11:21:40Z")
        XCTAssertEqual((data["escalated_to"] as? [String: Any])?["owner_id"] as? String, "rep_a")
        let stats = try f.pool.withConnection { try Store($0).queueStats(queue: "enterprise") }
        XCTAssertEqual(stats, QueueStats(open: 1, claimed: 1, breachedOpen: 2, breachedTotal: 2, medianSecondsToClaim: 0, p90SecondsToClaim: 0))
    }
}
