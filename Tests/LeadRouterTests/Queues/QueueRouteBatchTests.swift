import Foundation
import Postgres
import XCTest
@testable import LeadStore
import Segmentation

/// A lane batch's routes in one statement (`leadrouter_route_batch`, migrations/0112): the same
/// routing, in the order sent, as one `leadrouter_route_to_queue` statement each — rotation and
/// capacity as exact, every argument arriving as it was given (times to the microsecond, the
/// priority to the bit, absent values as NULL), and one answer per route, in order.
final class QueueRouteBatchTests: XCTestCase {
    func testABatchRoutesInOrderAsOneStatementEachWould() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [
            ("rep_a", 1, ["DE"]), ("rep_b", nil, []), ("rep_c", nil, [])])])
        // Times with microseconds, a priority whose decimal text is long, some values absent.
        let now = Date(timeIntervalSince1970: 1_795_000_000.123457)
        let sla = Date(timeIntervalSince1970: 1_795_001_800.000001)
        let leads = (0..<6).map { _ in UUID() }
        let requests = leads.enumerated().map { i, lead in
            RouteRequest(lead: lead, queue: "high-intent", segment: "decision.high-intent.pricing", team: "inside",
                         priority: 0.1 + 0.2 + Double(i), slaDueAt: i % 2 == 0 ? sla : nil, country: i == 3 ? "DE" : nil,
                         shipToRegion: nil, companyDomain: nil, memberSince: i == 5 ? nil : now, now: now)
        }
        let routed = try f.pool.withTransaction { conn in
            for lead in leads { try conn.execute("INSERT INTO leads (id) VALUES (\(lead))") }
            let store = Store(conn)
            return try Store.routedItems(conn.query(store.routeToQueueQuery(requests)), count: requests.count)
        }
        XCTAssertEqual(routed.count, 6)
        XCTAssertEqual(routed.map(\.created), Array(repeating: true, count: 6))
        // Round robin in the order sent. rep_a (capacity 1) is full after the first lead: the DE
        // lead passes over her as its territory member, then the rotation goes on after rep_c.
        XCTAssertEqual(routed.map(\.ownerId), ["rep_a", "rep_b", "rep_c", "rep_b", "rep_c", "rep_b"])
        XCTAssertEqual(routed.map(\.assignedBy), Array(repeating: "round_robin", count: 6))
        XCTAssertEqual(routed[3].skipped, [AssignmentSkip(ownerId: "rep_a", step: "territory", reason: "at_capacity (1/1)")])
        XCTAssertEqual(routed[5].skipped, [AssignmentSkip(ownerId: "rep_a", step: "round_robin", reason: "at_capacity (1/1)")])

        try f.pool.withConnection { conn in
            for (request, item) in zip(requests, routed) {
                // Times compared with the `Date` parameters one statement each would have sent.
                let row = try conn.query("""
                    SELECT lead_id, priority, sla_due_at IS NOT DISTINCT FROM \(request.slaDueAt) AS sla, created_at = \(request.now) AS created
                    FROM queue_items WHERE id = \(item.itemId)
                    """)[0]
                XCTAssertEqual(try row.decode(UUID.self, "lead_id"), request.lead, "answers come back in the order sent")
                XCTAssertEqual(try row.decode(Double.self, "priority"), request.priority, "the priority to the bit")
                XCTAssertTrue(try row.decode(Bool.self, "sla"), "SLA due time to the microsecond (or NULL)")
                XCTAssertTrue(try row.decode(Bool.self, "created"), "now to the microsecond")
            }
            XCTAssertEqual(try conn.query("SELECT last_owner_id FROM round_robin_state WHERE team_id = 'inside'").scalar(String.self), "rep_b")
        }
    }

    /// A batch keeps an answer that assigned nobody and gives it to the next new lead with the
    /// same team, country, ship-to region and domain (migrations/0119) — never an owner, not across
    /// keys, and not after a route that assigned someone or touched an existing item: the answers
    /// are those of one statement each, with fewer assignments asked.
    func testABatchAsksAFullTeamOnceAndAnswersAsOneStatementEachWould() throws {
        let teams = [
            "inside": QueueFixture.team("inside", escalateTo: "backup", [("rep_a", 1, ["DE"]), ("rep_b", 1, [])]),
            "backup": QueueFixture.team("backup", [("rep_z", 1, [])]),
        ]
        let now = Date(timeIntervalSince1970: 1_795_000_000.5)
        let leads = (0..<7).map { _ in UUID() }
        // 0, 1: rep_a, rep_b; 2: escalated to rep_z; 3: nobody (kept); 4: the kept answer; 5: another
        // key (DE) asks again; 6: lead 3's item again (forgets); 7: asks again.
        let plan: [(lead: Int, country: String?)] = [(0, nil), (1, nil), (2, nil), (3, nil), (4, nil), (5, "DE"), (3, nil), (6, nil)]
        let requests = plan.map { p in
            RouteRequest(lead: leads[p.lead], queue: "high-intent", segment: "decision.high-intent.pricing", team: "inside",
                         priority: 50, slaDueAt: nil, country: p.country, shipToRegion: nil, companyDomain: nil, memberSince: now, now: now)
        }
        /// The answers (item ids left out) and how many times assignment ran.
        func routed(batch: Bool) throws -> ([RoutedItem], Int) {
            let f = try QueueFixture(test: self, teams: teams)
            return try f.pool.withTransaction { conn in
                for lead in leads { try conn.execute("INSERT INTO leads (id) VALUES (\(lead))") }
                try conn.execute("SET LOCAL track_functions = 'all'")
                let store = Store(conn)
                var items = batch ? try Store.routedItems(conn.query(store.routeToQueueQuery(requests)), count: requests.count)
                    : try requests.map { try Store.routedItem(conn.query(store.routeToQueueQuery($0))) }
                for i in items.indices { items[i].itemId = UUID(uuidString: "00000000-0000-0000-0000-000000000000")! }
                let calls = try conn.query("SELECT pg_stat_get_xact_function_calls('leadrouter_assign_owner'::regproc)::integer AS n").scalar(Int.self)
                return (items, calls)
            }
        }
        let (one, oneCalls) = try routed(batch: false)
        let (batched, batchedCalls) = try routed(batch: true)
        XCTAssertEqual(one.map(\.ownerId), ["rep_a", "rep_b", "rep_z", nil, nil, nil, nil, nil])
        XCTAssertEqual(one[4].skipped, one[3].skipped)
        XCTAssertNotEqual(one[5].skipped, one[3].skipped, "the DE lead's territory step differs")
        XCTAssertEqual(batched, one)
        // Lead 4 is the only one answered from the kept "nobody": its team and the escalation team.
        XCTAssertEqual(batchedCalls, oneCalls - 2)
    }

    func testAnAnswerCountThatDoesNotMatchIsAnError() throws {
        let f = try QueueFixture(test: self, teams: ["inside": QueueFixture.team("inside", [("rep_a", nil, [])])])
        try f.pool.withConnection { conn in
            XCTAssertThrowsError(try Store.routedItems(conn.query("SELECT '[]'::jsonb AS r"), count: 1))
        }
    }
}
