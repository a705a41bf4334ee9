import Foundation
import Postgres
import XCTest
@testable import LeadRouterService
@testable import Rulesets

/// `POST /v1/rulesets/{v}/backtest`: the job replays the stored history through the candidate and
/// the active version without writing lead state; what it says each lead's memberships would be is
/// exactly what applying the candidate to a copy of the same history gives. And the jobs API:
/// progress, cancel, a job whose node died, and the activation guard a backtest feeds.
final class BacktestTests: XCTestCase {
    func waitForJob(_ service: TestService, _ id: String) throws -> [String: Any] {
        let client = try service.client()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let r = try client.json("GET", "/v1/jobs/\(id)", key: service.adminKey)
            XCTAssertEqual(r.status, 200, r.text)
            if let status = r.json["status"] as? String, !["queued", "running"].contains(status) { return r.json }
            usleep(50_000)
        }
        throw TestClientError(description: "job \(id) did not finish")
    }

    func testBacktestEqualsApplyingTheCandidateToACopyOfTheSameHistory() throws {
        let live = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let replay = try TestService(test: self, rulesYAML: RulesetFixtures.b)
        let start = live.clock.now
        try RulesetFixtures.sendHistory(live)
        try RulesetFixtures.sendHistory(replay)
        let underA = try RulesetFixtures.memberships(live), underB = try RulesetFixtures.memberships(replay)
        let decisions = try live.count("SELECT count(*) FROM decisions")
        let client = try live.client()
        XCTAssertEqual(try client.json("POST", "/v1/rulesets", key: live.adminKey, ["yaml": RulesetFixtures.b, "note": "b"]).status, 201)

        // Every lead, through the same code the job runs.
        let userOf = Dictionary(uniqueKeysWithValues: try live.connection().query("SELECT id, user_id FROM leads").map {
            (try $0.decode(UUID.self, "id"), try $0.decode(String.self, "user_id"))
        })
        let end = live.clock.now.addingTimeInterval(1)
        let stored = try XCTUnwrap(try live.app.rulesetAdmin.version(2)), current = try XCTUnwrap(try live.app.rulesetAdmin.version(1))
        var backtest = Backtest(candidate: try RulesetAdmin.engine(for: stored), active: try RulesetAdmin.engine(for: current),
                                from: start.addingTimeInterval(-1), to: end)
        backtest.pageSize = 7  // leads' events span pages
        var candidate: [String: String] = [:], active: [String: String] = [:]
        try backtest.run(pool: live.app.pool, progress: { _ in true }) { outcome in
            let user = userOf[outcome.leadId]!
            candidate[user] = outcome.candidate.final.newState.memberships.keys.sorted().joined(separator: ",")
            active[user] = outcome.active.final.newState.memberships.keys.sorted().joined(separator: ",")
        }
        XCTAssertEqual(candidate, underB, "the candidate's memberships are those of the same history applied under it")
        XCTAssertEqual(active, underA, "the active version's replay agrees with what is stored")

        // The job over HTTP: 202, then done with the report; nothing written to lead state.
        let r = try client.json("POST", "/v1/rulesets/2/backtest", key: live.adminKey, [
            "from": iso(start.addingTimeInterval(-1)), "to": iso(end)])
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["status"] as? String, "queued")
        XCTAssertEqual(r.json["kind"] as? String, "backtest")
        let job = try waitForJob(live, try XCTUnwrap(r.json["id"] as? String))
        XCTAssertEqual(job["status"] as? String, "done", "\(job)")
        XCTAssertEqual(job["progress"] as? Double, 1)
        let result = try XCTUnwrap(job["result"] as? [String: Any])
        XCTAssertEqual(result["leads"] as? Int, underA.count)
        XCTAssertEqual(result["events"] as? Int, (0..<RulesetFixtures.users).map { RulesetFixtures.events(user: $0).count }.reduce(0, +))
        let segments = try XCTUnwrap(result["segments"] as? [[String: Any]])
        func size(_ memberships: [String: String], _ segment: String) -> Int {
            memberships.values.filter { $0.split(separator: ",").contains(Substring(segment)) }.count
        }
        for figures in segments {
            let name = try XCTUnwrap(figures["name"] as? String)
            XCTAssertEqual((figures["candidate"] as? [String: Any])?["size_at_end"] as? Int, size(underB, name), name)
            XCTAssertEqual((figures["active"] as? [String: Any])?["size_at_end"] as? Int, size(underA, name), name)
            XCTAssertEqual(figures["current_members"] as? Int, size(underA, name), name)
            let both = underA.keys.filter { size([$0: underA[$0]!], name) == 1 && size([$0: underB[$0] ?? ""], name) == 1 }.count
            XCTAssertEqual(figures["overlap_with_current"] as? Int, both, name)
        }
        let moved = underA.keys.filter { user in
            let a = underA[user]!, b = underB[user]!
            return a != b  // with one route per segment, a routing change is a primary-segment change here
        }.count
        let share = try XCTUnwrap(result["routing_changed_share"] as? Double)
        XCTAssertGreaterThan(share, 0.1)
        XCTAssertLessThanOrEqual(share, Double(moved) / Double(underA.count) + 1e-9)
        XCTAssertFalse((result["examples"] as? [Any] ?? []).isEmpty)
        XCTAssertEqual(result["goal_conversion"] as? String, "not available: the ruleset has no goals")
        XCTAssertEqual(try RulesetFixtures.memberships(live), underA, "a backtest writes no lead state")
        XCTAssertEqual(try live.count("SELECT count(*) FROM decisions"), decisions)

        // The guard: the backtest says more than 10 % of the routing moves.
        var answer = try client.json("POST", "/v1/rulesets/2/activate", key: live.adminKey, [:])
        XCTAssertEqual(answer.status, 409, answer.text)
        XCTAssertEqual(live.app.engine.ruleset.version, 1)
        answer = try client.json("POST", "/v1/rulesets/2/activate", key: live.adminKey, ["confirm": true])
        XCTAssertEqual(answer.status, 200, answer.text)
    }

    func testJobsAreCancelledAndAJobWhoseNodeStoppedIsMarkedFailed() throws {
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a) { $0.runJobs = false }
        let client = try service.client()
        var r = try client.json("POST", "/v1/rulesets/1/backtest", key: service.adminKey, [
            "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "sample": 0.5])
        XCTAssertEqual(r.status, 202, r.text)
        let id = try XCTUnwrap(r.json["id"] as? String)
        XCTAssertEqual((r.json["params"] as? [String: Any])?["sample"] as? Double, 0.5)
        r = try client.json("DELETE", "/v1/jobs/\(id)", key: service.adminKey)
        XCTAssertEqual(r.json["status"] as? String, "cancelled", r.text)
        XCTAssertFalse(try service.app.jobRunner.runNext(), "a cancelled job is not run")
        XCTAssertEqual(try client.json("GET", "/v1/jobs/\(UUID())", key: service.adminKey).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/jobs/\(id)", key: service.readKey).status, 403)

        for body: [String: Any] in [["from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"], ["to": "2026-11-01T00:00:00Z"],
                                    ["from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "sample": 0],
                                    ["from": "yesterday", "to": "2026-12-01T00:00:00Z"]] {
            r = try client.json("POST", "/v1/rulesets/1/backtest", key: service.adminKey, body)
            XCTAssertEqual(r.status, 422, "\(body): \(r.text)")
        }
        XCTAssertEqual(try client.json("POST", "/v1/rulesets/4/backtest", key: service.adminKey, [
            "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"]).status, 404)

        // A running job whose node stopped beating a minute ago is failed by the next runner.
        let conn = try service.connection()
        try conn.execute("""
            INSERT INTO jobs (kind, status, params, created_by, started_at, heartbeat_at)
            VALUES ('backtest', 'running', '{"version": 1, "from_ms": 0, "to_ms": 1, "sample": 1}', 'test', now() - interval '2 minutes', now() - interval '2 minutes')
            """)
        XCTAssertFalse(try service.app.jobRunner.runNext())
        XCTAssertEqual(try service.count("SELECT count(*) FROM jobs WHERE status = 'failed' AND error = 'the node running it stopped'"), 1)

        // A queued job runs to done when a runner takes it.
        r = try client.json("POST", "/v1/rulesets/1/backtest", key: service.adminKey, ["from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"])
        XCTAssertTrue(try service.app.jobRunner.runNext())
        r = try client.json("GET", "/v1/jobs/\(try XCTUnwrap(r.json["id"] as? String))", key: service.adminKey)
        XCTAssertEqual(r.json["status"] as? String, "done", r.text)
        XCTAssertEqual((r.json["result"] as? [String: Any])?["leads"] as? Int, 0)
    }
}
