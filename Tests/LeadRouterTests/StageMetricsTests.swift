import Foundation
import Postgres
import XCTest
@testable import Ingest
@testable import LeadRouterService

/// `GET /v1/stages/metrics` against a scripted history on the manual clock, every number computed
/// by hand first: entries, moves to the next and to any later stage, moves back, departures by a
/// merge and an erasure, a move decided by the sweeper and one by a ruleset change, stage goal
/// conversion and time in stage.
final class StageMetricsTests: XCTestCase {
    /// Declared most advanced first (the first rule that holds wins): the funnel is awareness →
    /// consideration → decision.
    static let v1 = """
        version: 1
        events:
          aliases: { "Product Viewed": product_viewed, "Product Added": added_to_cart, "Order Completed": completed_checkout }
        stages:
          - { stage: decision, when: 'count(added_to_cart, 1d) >= 1', goal: { when: lead.customer, within: 7d } }
          - { stage: consideration, when: 'count(product_viewed, 1d) >= 2', goal: { when: 'count(added_to_cart, 1d) >= 1', within: 2d } }
          - { stage: awareness, when: 'true' }
        statuses:
          on_event: { completed_checkout: converted }
        segments:
          - name: awareness.low-intent.viewer
            enter: 'count(product_viewed, 1d) >= 1'
            route: { email: { sequence: picks } }
        """
    /// Version 2 asks three views of a considering lead.
    static let v2 = v1.replacingOccurrences(of: "version: 1", with: "version: 2")
        .replacingOccurrences(of: "count(product_viewed, 1d) >= 2", with: "count(product_viewed, 1d) >= 3")

    let t0 = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    func testHandComputedFunnelWithSweeperMergeRulesetChangeAndErasure() throws {
        let service = try TestService(test: self, start: t0, rulesYAML: Self.v1)
        let client = try service.client()
        @discardableResult
        func send(at hours: Double, _ identity: [String: Any], _ event: String) throws -> String {
            service.clock.set(t0.addingTimeInterval(hours * 3600))
            var body = identity
            body["event"] = event
            let r = try client.json("POST", "/v1/events", key: service.ingestKey, body)
            XCTAssertEqual(r.status, 200, r.text)
            return try XCTUnwrap(r.json["lead_id"] as? String)
        }
        // Nov 2                                                       stage rows (from → to, stay)
        let a = try send(at: 0, ["userId": "a"], "Product Viewed")     // A  '' → awareness 09:00
        let b = try send(at: 0.5, ["userId": "b"], "Product Viewed")   // B  '' → awareness 09:30
        try send(at: 1, ["userId": "a"], "Product Viewed")             // A  awareness → consideration 10:00 (3 600 s, next)
        try send(at: 2, ["userId": "a"], "Product Added")              // A  consideration → decision 11:00 (3 600 s, next);
                                                                       //    consideration's goal (a cart) reached as it leaves
        try send(at: 3, ["userId": "b"], "Product Added")              // B  awareness → decision 12:00 (9 000 s, later, not next)
        try send(at: 4, ["userId": "b"], "Order Completed")            // B  customer: decision's goal reached, entry 12:00
        let c = try send(at: 5, ["anonymousId": "anon-c"], "Product Viewed")  // C '' → awareness 14:00
        try send(at: 6, ["userId": "a", "anonymousId": "anon-c"], "Product Viewed")  // C merged into A: awareness → '' 15:00
        // Nov 3 12:30, the sweeper: A's and B's carts are out of the day's window. A has two views
        // in it (14:00, C's, and 15:00): decision → consideration (91 800 s); B: decision → awareness (88 200 s).
        service.clock.set(t0.addingTimeInterval(27.5 * 3600))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 2)
        // Nov 3 13:45, version 2 activated: A's two views no longer make consideration: → awareness (4 500 s).
        service.clock.set(t0.addingTimeInterval(28.75 * 3600))
        XCTAssertEqual(try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": Self.v2, "note": "three views"]).status, 201)
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/2/activate", key: service.adminKey, [:]).status, 200)
        while try !service.app.sweeper.reevaluationBatch(limit: 10).finished {}
        // Nov 3 14:00: B erased: awareness → ''.
        service.clock.set(t0.addingTimeInterval(29 * 3600))
        XCTAssertEqual(try client.json("DELETE", "/v1/leads/\(b)", key: service.adminKey).status, 200)

        let reasons = try service.connection().query("""
            SELECT lead_id::text AS l, string_agg(from_stage || '>' || to_stage || ':' || reason, ' ' ORDER BY occurred_at, id) AS r
            FROM stage_history GROUP BY lead_id
            """)
        var byLead: [String: String] = [:]
        for row in reasons { byLead[try row.decode(String.self, "l")] = try row.decode(String.self, "r") }
        XCTAssertEqual(byLead[a], ">awareness:event awareness>consideration:event consideration>decision:event "
                       + "decision>consideration:time_based consideration>awareness:ruleset_change")
        XCTAssertEqual(byLead[b], ">awareness:event awareness>decision:event decision>awareness:time_based awareness>:erase")
        XCTAssertEqual(byLead[c], ">awareness:event awareness>:merge")

        let r = try client.json("GET", "/v1/stages/metrics?from=2026-11-02T00:00:00Z&to=2026-11-04T00:00:00Z&interval=day", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        let stages = try XCTUnwrap(r.json["stages"] as? [[String: Any]])
        XCTAssertEqual(stages.map { $0["stage"] as? String }, ["awareness", "consideration", "decision"])
        XCTAssertEqual(stages.map { $0["next"] as? String }, ["consideration", "decision", nil])
        func steps(_ i: Int, _ key: String) -> [Int?] { (stages[i]["steps"] as? [[String: Any]] ?? []).map { $0[key] as? Int } }
        func totals(_ i: Int) -> [String: Any] { stages[i]["totals"] as? [String: Any] ?? [:] }
        func goals(_ i: Int) -> [Int?] { (stages[i]["steps"] as? [[String: Any]] ?? []).map { ($0["goal"] as? [String: Any])?["reached"] as? Int } }

        // awareness: entries A, B, C (Nov 2), B and A coming back (Nov 3); A moved to the next
        // stage, B past it; C left by the merge, B by the erasure.
        XCTAssertEqual(steps(0, "entries"), [3, 2])
        XCTAssertEqual(steps(0, "moved_next"), [1, 0])
        XCTAssertEqual(steps(0, "moved_later"), [2, 0])
        XCTAssertEqual(steps(0, "left"), [1, 1])
        XCTAssertEqual(steps(0, "exits"), [3, 1])
        XCTAssertEqual(totals(0)["next_rate"] as? Double, 0.2)
        XCTAssertEqual(totals(0)["later_rate"] as? Double, 0.4)
        XCTAssertNil(totals(0)["goal"], "awareness has no goal")
        // consideration: A in (Nov 2) and on to decision, its goal reached on the way; A again
        // (Nov 3, from decision) and back to awareness by the ruleset change.
        XCTAssertEqual(steps(1, "entries"), [1, 1])
        XCTAssertEqual(steps(1, "moved_next"), [1, 0])
        XCTAssertEqual(steps(1, "moved_back"), [0, 1])
        XCTAssertEqual(goals(1), [1, 0])
        XCTAssertEqual(totals(1)["goal"] as? [String: Double], ["reached": 1, "conversion": 0.5])
        // decision: A and B in (Nov 2), B converted; both back by the sweeper (Nov 3).
        XCTAssertEqual(steps(2, "entries"), [2, 0])
        XCTAssertEqual(steps(2, "moved_back"), [0, 2])
        XCTAssertEqual(steps(2, "exits"), [0, 2])
        XCTAssertEqual(goals(2), [1, 0])
        XCTAssertEqual(totals(2)["entries"] as? Int, 2)
        XCTAssertEqual(totals(2)["next_rate"] as? Double, 0)
        XCTAssertEqual(stages[2]["goal"] as? [String: String], ["when": "lead.customer", "within": "7d"])

        // Time in stage, departures to another stage only: awareness 3 600 and 9 000 s,
        // consideration 3 600 and 4 500, decision 88 200 and 91 800.
        for (i, median, p90) in [(0, 3600.0, 9000.0), (1, 3600, 4500), (2, 88_200, 91_800)] {
            let stay = try XCTUnwrap(stages[i]["time_in_stage"] as? [String: Any])
            XCTAssertEqual(stay["exits_measured"] as? Int, 2)
            let m = try XCTUnwrap(stay["median_seconds"] as? Double), p = try XCTUnwrap(stay["p90_seconds"] as? Double)
            XCTAssertLessThanOrEqual(abs(m - median) / median, StayHistogram.relativeError, "\(i) median \(m)")
            XCTAssertLessThanOrEqual(abs(p - p90) / p90, StayHistogram.relativeError, "\(i) p90 \(p)")
        }

        // Stays of a range come from whole months (migration 0049's monthly rows) and the days of its
        // partial months: across three months, a month alone, and the days of one month after Nov 2.
        for (range, expected) in [("from=2026-10-15T00:00:00Z&to=2026-12-10T00:00:00Z", [2, 2, 2]),
                                  ("from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", [2, 2, 2]),
                                  ("from=2026-11-03T00:00:00Z&to=2026-12-01T00:00:00Z", [0, 1, 2])] {
            let body = try client.json("GET", "/v1/stages/metrics?\(range)", key: service.readKey).json
            let measured = (body["stages"] as? [[String: Any]])?.map { ($0["time_in_stage"] as? [String: Any])?["exits_measured"] as? Int }
            XCTAssertEqual(measured, expected, range)
        }

        // By hour; and a last partial day from its hours: to 13:00 on Nov 3 holds the sweeper's moves, not the ruleset change's.
        let hours = try client.json("GET", "/v1/stages/metrics?from=2026-11-02T09:00:00Z&to=2026-11-02T13:00:00Z&interval=hour", key: service.readKey).json
        let hourly = try XCTUnwrap(hours["stages"] as? [[String: Any]])
        XCTAssertEqual((hourly[0]["steps"] as? [[String: Any]])?.map { $0["entries"] as? Int }, [2, 0, 0, 0])
        XCTAssertEqual((hourly[1]["steps"] as? [[String: Any]])?.map { $0["entries"] as? Int }, [0, 1, 0, 0])
        XCTAssertEqual((hourly[2]["steps"] as? [[String: Any]])?.map { $0["entries"] as? Int }, [0, 0, 1, 1])
        let partial = try client.json("GET", "/v1/stages/metrics?from=2026-11-02T00:00:00Z&to=2026-11-03T13:00:00Z&interval=day", key: service.readKey).json
        let partialStages = try XCTUnwrap(partial["stages"] as? [[String: Any]])
        XCTAssertEqual((partialStages[0]["steps"] as? [[String: Any]])?.map { $0["entries"] as? Int }, [3, 1])
        XCTAssertEqual((partialStages[1]["steps"] as? [[String: Any]])?.map { $0["moved_back"] as? Int }, [0, 0])

        // Bad input is a 400 naming the parameter; anonymous is 401.
        for (query, pointer) in [("interval=month", "/query/interval"), ("from=yesterday", "/query/from")] {
            let bad = try client.json("GET", "/v1/stages/metrics?\(query)", key: service.readKey)
            XCTAssertEqual(bad.status, 400, query)
            XCTAssertEqual((bad.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, pointer)
        }
        XCTAssertEqual(try client.json("GET", "/v1/stages/metrics", key: nil).status, 401)
    }
}
