import Foundation
import Postgres
import XCTest
@testable import Ingest
@testable import LeadRouterService

/// `GET /v1/segments/{name}/metrics` against a scripted history on a manual clock, every number
/// computed by hand: entries, exits by each reason (rule, time, merge, ruleset change, erase),
/// sizes per step, goal conversion and drop-off, time in segment and entrants by channel.
final class SegmentMetricsTests: XCTestCase {
    static let v1 = """
        version: 1
        events:
          aliases: { "Product Viewed": product_viewed, "Product Added": added_to_cart }
        sources:
          - { channel: paid_search, when: 'event.context.campaign.medium == "cpc"' }
        stages:
          - { stage: awareness, when: 'true' }
        owners: [marketing]
        segments:
          - name: awareness.low-intent.viewer
            owner: marketing
            enter: 'count(product_viewed, 1d) >= 1'
            exit: 'count(added_to_cart, 1d) >= 1 or count(product_viewed, 1d) == 0'
            goal: { when: 'count(added_to_cart, 1d) >= 1', within: 7d }
            route: { email: { sequence: picks } }
        """
    /// Version 2 asks for two views: a member's next decision is made by another ruleset than its entry.
    static let v2 = v1.replacingOccurrences(of: "version: 1", with: "version: 2")
        .replacingOccurrences(of: "count(product_viewed, 1d) >= 1", with: "count(product_viewed, 1d) >= 2")

    let t0 = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z
    let segment = "awareness.low-intent.viewer"

    func testHandComputedMetricsWithMergeRulesetChangeAndErasure() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        func app(_ yaml: String) throws -> LeadRouterApp {
            var options = LeadRouterApp.Options(databaseURL: url, rulesYAML: yaml, rulesFileName: "rules.yaml")
            options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
            options.runSweeper = false
            options.webhooks.enabled = false
            options.server.host = "127.0.0.1"
            options.server.port = 0
            options.clock = { clock.now }
            return try LeadRouterApp(options: options, logger: TestDatabases.logger)
        }
        let key = UUID()
        @discardableResult
        func track(_ app: LeadRouterApp, at hours: Double, _ identity: String, _ event: String, cpc: Bool = false) throws -> UUID {
            clock.set(t0.addingTimeInterval(hours * 3600))
            let context = cpc ? #", "context": {"campaign": {"medium": "cpc"}}"# : ""
            let body = Array(#"{\#(identity), "event": "\#(event)"\#(context)}"#.utf8)
            let message = try SegmentMessageDecoder().decodeSingle(body, kind: .track, receivedAt: clock.now)
            return try app.ingest.ingest(message, writeKey: key).leadId
        }

        let first = try app(Self.v1)
        try track(first, at: 0, #""userId": "a""#, "Product Viewed", cpc: true)          // A enters 09:00
        try track(first, at: 1.0 / 6, #""userId": "b""#, "Product Viewed")               // B enters 09:10
        try track(first, at: 2, #""anonymousId": "anon-c""#, "Product Viewed")           // C enters 11:00
        try track(first, at: 3, #""userId": "b", "anonymousId": "anon-c""#, "Product Viewed")  // C merged into B: exit by merge 12:00
        try track(first, at: 4, #""userId": "e""#, "Product Viewed", cpc: true)          // E enters 13:00
        try track(first, at: 5, #""userId": "e""#, "Product Added")                      // E leaves by rule 14:00
        clock.set(t0.addingTimeInterval(25 * 3600))
        try first.sweeper.sweepDue()                                                     // A leaves by time, Nov 3 10:00
        first.stop()

        let second = try app(Self.v2)
        try second.start()
        defer { second.stop() }
        try track(second, at: 26, #""userId": "b""#, "Product Added")                    // B leaves under v2: ruleset change, 11:00
        try track(second, at: 26, #""userId": "d""#, "Product Viewed")
        let d = try track(second, at: 26 + 1.0 / 60, #""userId": "d""#, "Product Viewed")  // D enters 11:01
        clock.set(t0.addingTimeInterval(26.5 * 3600))
        let client = try TestHTTPClient(port: second.port!)
        let admin = try second.createKey(name: "admin", scopes: [.admin])
        let read = try second.createKey(name: "read", scopes: [.read])
        XCTAssertEqual(try client.json("DELETE", "/v1/leads/\(d.uuidString.lowercased())", key: admin).status, 200)  // D erased 11:30

        let days = try client.json("GET", "/v1/segments/\(segment)/metrics?from=2026-11-02T00:00:00Z&to=2026-11-04T00:00:00Z&interval=day", key: read)
        XCTAssertEqual(days.status, 200, days.text)
        let body = days.json
        XCTAssertEqual(body["owner"] as? String, "marketing")
        XCTAssertEqual(body["interval"] as? String, "day")
        let steps = try XCTUnwrap(body["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["start"] as? String }, ["2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"])
        XCTAssertEqual(steps.map { $0["entries"] as? Int }, [4, 1])   // A B C E; D
        XCTAssertEqual(steps.map { $0["exits"] as? Int }, [2, 3])     // C (merge) E (rule); A (time) B (ruleset) D (erase)
        XCTAssertEqual(steps.map { $0["size"] as? Int }, [2, 0])
        XCTAssertEqual(steps[0]["exits_by_reason"] as? [String: Int],
                       ["rule": 1, "time_based": 0, "merge": 1, "ruleset_change": 0, "erase": 0])
        XCTAssertEqual(steps[1]["exits_by_reason"] as? [String: Int],
                       ["rule": 0, "time_based": 1, "merge": 0, "ruleset_change": 1, "erase": 1])
        let totals = try XCTUnwrap(body["totals"] as? [String: Any])
        XCTAssertEqual(totals["entries"] as? Int, 5)
        XCTAssertEqual(totals["exits"] as? Int, 5)
        // Goal (an add to cart within 7 days): B reached it as it left under v2 (its membership dates from
        // 09:10, B's own entry), E as it left by rule; of the first day's 4 entrants 2, of the second's (D) none.
        // Drop-offs: A (time) and D (erased) left without it; C's merge is no drop-off (the membership lives on in B).
        XCTAssertEqual(body["goal"] as? [String: String], ["when": "count(added_to_cart, 1d) >= 1", "within": "7d"])
        XCTAssertEqual(steps.map { ($0["goal"] as? [String: Any])?["reached"] as? Int }, [2, 0])
        XCTAssertEqual(steps.map { ($0["goal"] as? [String: Any])?["conversion"] as? Double }, [0.5, 0])
        XCTAssertEqual(steps.map { ($0["goal"] as? [String: Any])?["drop_offs"] as? Int }, [0, 2])
        XCTAssertEqual(totals["goal"] as? [String: Double], ["reached": 2, "conversion": 0.4, "drop_offs": 2])

        // Stays: D 1 740 s, C 3 600, E 3 600, B 86 400 (from C's entry, which moved to B), A 90 000.
        let stay = try XCTUnwrap(body["time_in_segment"] as? [String: Any])
        XCTAssertEqual(stay["exits_measured"] as? Int, 5)
        let median = try XCTUnwrap(stay["median_seconds"] as? Double), p90 = try XCTUnwrap(stay["p90_seconds"] as? Double)
        XCTAssertLessThanOrEqual(abs(median - 3600) / 3600, StayHistogram.relativeError, "\(median)")
        XCTAssertLessThanOrEqual(abs(p90 - 90_000) / 90_000, StayHistogram.relativeError, "\(p90)")

        let channels = try XCTUnwrap(body["entrants_by_channel"] as? [String: [String: Int]])
        XCTAssertEqual(channels["first_touch"], ["paid_search": 2, "direct": 3])
        XCTAssertEqual(channels["last_touch"], ["paid_search": 2, "direct": 3])

        // By hour: the size at the end of each hour of the first morning, and the starting size of a later range.
        let hours = try client.json("GET", "/v1/segments/\(segment)/metrics?from=2026-11-02T09:00:00Z&to=2026-11-02T15:00:00Z&interval=hour", key: read).json
        let hourSteps = try XCTUnwrap(hours["steps"] as? [[String: Any]])
        XCTAssertEqual(hourSteps.map { $0["entries"] as? Int }, [2, 0, 1, 0, 1, 0])
        XCTAssertEqual(hourSteps.map { $0["size"] as? Int }, [2, 2, 3, 2, 3, 2])
        let later = try client.json("GET", "/v1/segments/\(segment)/metrics?from=2026-11-03T10:30:00Z&to=2026-11-03T12:00:00Z&interval=hour", key: read).json
        let laterSteps = try XCTUnwrap(later["steps"] as? [[String: Any]])
        XCTAssertEqual(later["from"] as? String, "2026-11-03T10:00:00.000Z", "from moves back to the start of its step")
        XCTAssertEqual(laterSteps.map { $0["size"] as? Int }, [1, 0])

        // Days and weeks come from the daily sums (migration 0022), a last partial day from its hours:
        // to 10:30 on Nov 3 holds A's exit by time (10:00) and not B's (11:00).
        let partial = try client.json("GET", "/v1/segments/\(segment)/metrics?from=2026-11-02T00:00:00Z&to=2026-11-03T10:30:00Z&interval=day", key: read).json
        let partialSteps = try XCTUnwrap(partial["steps"] as? [[String: Any]])
        XCTAssertEqual(partialSteps.map { $0["entries"] as? Int }, [4, 0])
        XCTAssertEqual(partialSteps.map { $0["exits"] as? Int }, [2, 1])
        XCTAssertEqual(partialSteps.map { $0["size"] as? Int }, [2, 1])
        let week = try client.json("GET", "/v1/segments/\(segment)/metrics?from=2026-11-04T00:00:00Z&to=2026-11-09T00:00:00Z&interval=week", key: read).json
        let weekSteps = try XCTUnwrap(week["steps"] as? [[String: Any]])
        XCTAssertEqual(week["from"] as? String, "2026-11-02T00:00:00.000Z", "weeks start on Monday")
        XCTAssertEqual(weekSteps.map { $0["entries"] as? Int }, [5])
        XCTAssertEqual(weekSteps.map { $0["exits"] as? Int }, [5])
        XCTAssertEqual(weekSteps.map { $0["size"] as? Int }, [0])
        let secondDay = try client.json("GET", "/v1/segments/\(segment)/metrics?from=2026-11-03T05:00:00Z&to=2026-11-04T00:00:00Z&interval=day", key: read).json
        XCTAssertEqual((secondDay["steps"] as? [[String: Any]])?.map { $0["size"] as? Int }, [0], "2 members at the start of Nov 3, 1 entry, 3 exits")

        // Bad input changes nothing and says which parameter is wrong; unknown segments are 404; anonymous is 401.
        for (query, pointer) in [("interval=month", "/query/interval"), ("from=yesterday", "/query/from"),
                                 ("from=2026-11-04T00:00:00Z&to=2026-11-03T00:00:00Z", "/query/from"),
                                 ("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=hour", "/query/interval")] {
            let bad = try client.json("GET", "/v1/segments/\(segment)/metrics?\(query)", key: read)
            XCTAssertEqual(bad.status, 400, query)
            XCTAssertEqual((bad.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, pointer, query)
        }
        XCTAssertEqual(try client.json("GET", "/v1/segments/no.such.segment/metrics", key: read).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/segments/\(segment)/metrics", key: nil).status, 401)
        let listed = try client.json("GET", "/v1/segments", key: read).json["data"] as? [[String: Any]]
        XCTAssertEqual(listed?.first?["goal"] as? [String: String], ["when": "count(added_to_cart, 1d) >= 1", "within": "7d"])
    }
}
