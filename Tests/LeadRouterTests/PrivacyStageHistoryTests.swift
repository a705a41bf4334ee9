import Foundation
import Postgres
import XCTest
import LeadStore
@testable import LeadRouterService
@testable import Privacy

/// Stage history and experiment assignments in the privacy export, and stage history under
/// retention (issue 15): pruned by age except each lead's latest change, with the funnel's
/// rollups untouched and the next stay still measured.
final class PrivacyStageHistoryTests: XCTestCase {
    static let day = 86_400.0

    func lead(_ service: TestService, userId: String) throws -> UUID {
        let id = try XCTUnwrap(try service.client().json("GET", "/v1/leads?user_id=\(userId)", key: service.readKey).json["id"] as? String)
        return try XCTUnwrap(UUID(uuidString: id))
    }

    func testExportHoldsStageHistoryInPagesAndExperimentAssignments() throws {
        let service = try TestService(test: self)
        for event in ["Product Viewed", "Product Viewed", "Pricing Requested"] {  // '' → awareness → consideration → decision
            XCTAssertEqual(try service.send("/v1/track", ["userId": "u-stages", "event": event]).status, 200)
            service.clock.advance(60)
        }
        let lead = try lead(service, userId: "u-stages")
        let conn = try service.connection()
        XCTAssertEqual(try service.count("SELECT count(*) FROM stage_history WHERE lead_id = '\(lead)'"), 3)
        // More than a page (1 000 rows) of older moves, and one experiment arm.
        try conn.execute("""
            INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, occurred_at)
            SELECT \(lead), CASE WHEN g % 2 = 0 THEN 'awareness' ELSE 'consideration' END,
                   CASE WHEN g % 2 = 0 THEN 'consideration' ELSE 'awareness' END, 'event', 1,
                   \(service.clock.now) - interval '900 days' + make_interval(secs => g)
            FROM generate_series(1, 1500) AS g
            """)
        try conn.execute("""
            INSERT INTO experiment_assignments (lead_id, experiment, arm, segment, assigned_at)
            VALUES (\(lead), 'pricing-follow-up', 'holdout', 'decision.high-intent.pricing', \(service.clock.now))
            """)
        let stored = Set(try conn.query("SELECT id FROM stage_history WHERE lead_id = \(lead)").map { try $0.decode(Int.self, "id") })
        XCTAssertEqual(stored.count, 1503)

        let response = try TestHTTPClient(port: service.port, timeout: 120).json("GET", "/v1/leads/\(lead)/export", key: service.adminKey)
        XCTAssertEqual(response.status, 200, response.text)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        let history = try XCTUnwrap(document["stage_history"] as? [[String: Any]])
        XCTAssertEqual(Set(history.compactMap { $0["id"] as? Int }), stored, "every change, each once, across pages")
        XCTAssertEqual(history.count, 1503)
        XCTAssertEqual(history.suffix(3).map { $0["to_stage"] as? String }, ["awareness", "consideration", "decision"], "oldest first")
        XCTAssertEqual(history.last?["reason"] as? String, "event")
        let arms = try XCTUnwrap(document["experiment_assignments"] as? [[String: Any]])
        XCTAssertEqual(arms.map { $0["experiment"] as? String }, ["pricing-follow-up"])
        XCTAssertEqual(arms.first?["arm"] as? String, "holdout")
        let counts = try XCTUnwrap(document["counts"] as? [String: Int])
        XCTAssertEqual(counts["stage_history"], 1503)
        XCTAssertEqual(counts["experiment_assignments"], 1)

        let ndjson = try TestHTTPClient(port: service.port, timeout: 120).json("GET", "/v1/leads/\(lead)/export?format=ndjson", key: service.adminKey)
        XCTAssertEqual(ndjson.status, 200)
        var sections: [String: Int] = [:]
        for line in ndjson.body.split(separator: UInt8(ascii: "\n")) {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            sections[try XCTUnwrap(object["section"] as? String), default: 0] += 1
        }
        XCTAssertEqual(sections["stage_history"], 1503)
        XCTAssertEqual(sections["experiment_assignments"], 1)
    }

    func testStageHistoryIsPrunedByAgeKeepingEachLeadsLatestChangeAndTheRollups() throws {
        let service = try TestService(test: self)
        // A moves twice long ago and again now; B moved once long ago and still sits in its stage.
        for (user, event) in [("u-a", "Product Viewed"), ("u-a", "Product Viewed"), ("u-b", "Product Viewed")] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": user, "event": event]).status, 200)
            service.clock.advance(60)
        }
        let a = try lead(service, userId: "u-a"), b = try lead(service, userId: "u-b")
        service.clock.advance(401 * Self.day)
        XCTAssertEqual(try service.send("/v1/track", ["userId": "u-a", "event": "Pricing Requested"]).status, 200)
        let moves = try service.connection().query("SELECT from_stage || '>' || to_stage AS m FROM stage_history WHERE lead_id = \(a) ORDER BY id")
            .map { try $0.decode(String.self, "m") }
        XCTAssertEqual(moves, [">awareness", "awareness>consideration", "consideration>decision"])
        XCTAssertEqual(try service.count("SELECT count(*) FROM stage_history WHERE lead_id = '\(b)'"), 1)
        let rollups = """
            SELECT (SELECT sum(moves) FROM stage_moves_hourly) * 1000000 + (SELECT sum(moves) FROM stage_moves_daily) * 1000
                   + (SELECT coalesce(sum(exits), 0) FROM stage_stay_daily)
            """
        // Read as the service reads the rollups: behind the fold guard, which on Citus keeps a
        // read from seeing half of a background fold (migration 0087).
        func rollupCount(_ sql: String) throws -> Int {
            try service.connection().pipeline([Store.rollupReadGuard, PostgresQuery(unsafeRaw: sql)])[1].scalar(Int.self)
        }
        let before = try rollupCount(rollups)
        let staysBefore = try rollupCount("SELECT coalesce(sum(exits), 0) FROM stage_stay_daily")

        let report = try service.app.retention.runOnce()
        XCTAssertEqual(report.stageHistory, 2, "A's two old changes; B's only change is its latest")
        XCTAssertEqual(try service.count("SELECT count(*) FROM stage_history WHERE lead_id = '\(a)'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM stage_history WHERE lead_id = '\(b)'"), 1)
        XCTAssertEqual(try rollupCount(rollups), before, "past funnel counts stay")
        XCTAssertEqual(try service.app.retention.runOnce().stageHistory, 0)

        // B leaves the stage it entered 401 days ago: that stay is still measured from the row kept.
        XCTAssertEqual(try service.send("/v1/track", ["userId": "u-b", "event": "Pricing Requested"]).status, 200)
        XCTAssertEqual(try rollupCount("SELECT coalesce(sum(exits), 0) FROM stage_stay_daily"), staysBefore + 1)
    }
}
