import Essentials
import Foundation
import Postgres
import XCTest
@testable import LeadRouterService
@testable import Rulesets

/// The replay applies the sweeper's time-based exits where the live service makes them: a live
/// service takes a history whose memberships run out between events (and before `to`), its
/// sweeper run at every lead's `next_evaluation_at`; a backtest of the same version over that
/// history counts exactly the entries and exits the live `membership_history` holds, and ends
/// with the live memberships.
final class BacktestSweepTests: XCTestCase {
    /// Windows short enough to run out between the events below: a viewer is a member for a day
    /// after each view, a carter while two adds fall within two days.
    static let rules = RulesetChangeTests.before.replacingOccurrences(of: "count(product_viewed, 30d)", with: "count(product_viewed, 1d)") + """

          - name: awareness.high-intent.carter
            enter: 'count(added_to_cart, 2d) >= 2'
            route: { email: { sequence: carts } }
        """

    /// User `i`'s events: hours after the start and names. The view gaps over a day make the
    /// sweeper end `viewer` before the next view enters it again (an event-only replay would see
    /// the lead stay); the adds make `carter` end two days after the first of a pair.
    static func events(user i: Int) -> [(hours: Double, name: String)] {
        let h = Double(i)
        return [(0.5 + h, "Product Viewed"), (6 + h, "Product Viewed"), (31 + 2 * h, "Product Viewed"),
                (32 + h, "Product Added"), (40 + h, "Product Added"), (41 + h, "Product Viewed"),
                (96 + h / 2, "Product Added"), (100 + h, "Product Viewed"), (130, "Product Added")]
    }

    func testReplaySweepsAtNextEvaluationAsTheLiveServiceDoes() throws {
        let live = try TestService(test: self, rulesYAML: Self.rules)
        let client = try live.client(), conn = try live.connection()
        let start = live.clock.now
        let schedule = (0..<8).flatMap { user in Self.events(user: user).map { (at: start.addingTimeInterval($0.hours * 3600), user: user, name: $0.name) } }
            .sorted { $0.at < $1.at }
        /// Sweeps every lead due before `limit`, each sweep at the earliest due time (the sweeper
        /// running on time).
        func sweep(before limit: Date) throws {
            while let due = try conn.query("SELECT min(next_evaluation_at) AS due FROM leads").first.flatMap({ try $0.decode(Date?.self, "due") }),
                  due < limit {
                live.clock.set(due)
                XCTAssertGreaterThan(try live.app.sweeper.sweepDue(), 0)
            }
        }
        for event in schedule {
            try sweep(before: event.at)
            live.clock.set(event.at)
            let r = try client.json("POST", "/v1/events", key: live.ingestKey, [
                "userId": "u-\(event.user)", "event": event.name, "timestamp": iso(event.at)])
            XCTAssertEqual(r.status, 200, r.text)
        }
        let end = start.addingTimeInterval(200 * 3600)
        try sweep(before: end)

        var history: [String: Int] = [:]
        for row in try conn.query("SELECT segment::text || ' ' || change AS key, count(*) AS n FROM membership_history GROUP BY 1") {
            history[try row.decode(String.self, "key")] = try row.decode(Int.self, "n")
        }
        XCTAssertGreaterThanOrEqual(history["awareness.low-intent.viewer exited"] ?? 0, 16, "\(history)")
        XCTAssertGreaterThan(try live.count("SELECT count(*) FROM membership_history WHERE change = 'exited' AND event_id IS NULL"), 0,
                             "the sweeper made exits")

        let engine = live.app.engine
        let backtest = Backtest(candidate: engine, active: engine, from: start.addingTimeInterval(-1), to: end)
        for workers in [1, 2] {
            let report = try XCTUnwrap(try JobRunner.run(backtest, pool: live.app.pool, workers: workers) { _ in true })
            for segment in report.segments {
                for side in [segment.candidate, segment.active] {
                    XCTAssertEqual(side.entries, history["\(segment.name) entered"] ?? 0, "\(segment.name) entries, \(workers) workers")
                    XCTAssertEqual(side.exits, history["\(segment.name) exited"] ?? 0, "\(segment.name) exits, \(workers) workers")
                }
                XCTAssertEqual(segment.candidate.sizeAtEnd, try live.count("SELECT count(*) FROM memberships WHERE segment = '\(segment.name)'"))
            }
        }
    }
}
