import Essentials
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

    /// The same history sent to a service under A (`live`, with `candidate` pushed as version 2,
    /// not active) and to a copy under `candidate` from the start (`replay`); `live`'s user ids by lead id.
    func copies(candidate: String) throws -> (live: TestService, replay: TestService, start: Date, userOf: [UUID: String]) {
        let live = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let replay = try TestService(test: self, rulesYAML: candidate)
        let start = live.clock.now
        try RulesetFixtures.sendHistory(live)
        try RulesetFixtures.sendHistory(replay)
        let pushed = try live.client().json("POST", "/v1/rulesets", key: live.adminKey, ["yaml": candidate, "note": "candidate"])
        XCTAssertEqual(pushed.status, 201, pushed.text)
        let userOf = Dictionary(uniqueKeysWithValues: try live.connection().query("SELECT id, user_id FROM leads").map {
            (try $0.decode(UUID.self, "id"), try $0.decode(String.self, "user_id"))
        })
        return (live, replay, start, userOf)
    }

    /// Version 2 against the active version 1 of `live`, as the job builds it.
    func backtestOfVersion2(_ live: TestService, from: Date, to: Date) throws -> Backtest {
        let stored = try XCTUnwrap(try live.app.rulesetAdmin.version(2)), current = try XCTUnwrap(try live.app.rulesetAdmin.version(1))
        return Backtest(candidate: try RulesetAdmin.engine(for: stored), active: try RulesetAdmin.engine(for: current), from: from, to: to)
    }

    /// Every lead's outcome, replayed on `workers` threads (in no particular order).
    func outcomes(_ backtest: Backtest, _ service: TestService, workers: Int = 2) throws -> [Backtest.LeadOutcome] {
        let all = Locked<[Backtest.LeadOutcome]>([])
        try backtest.run(pool: service.app.pool, workers: workers, progress: { _ in true }) { _, outcome in all.withLock { $0.append(outcome) } }
        return all.withLock { $0 }
    }

    func testBacktestEqualsApplyingTheCandidateToACopyOfTheSameHistory() throws {
        let (live, replay, start, userOf) = try copies(candidate: RulesetFixtures.b)
        let underA = try RulesetFixtures.memberships(live), underB = try RulesetFixtures.memberships(replay)
        let decisions = try live.count("SELECT count(*) FROM decisions")
        let client = try live.client()

        // Every lead, through the same code the job runs.
        let end = live.clock.now.addingTimeInterval(1)
        var backtest = try backtestOfVersion2(live, from: start.addingTimeInterval(-1), to: end)
        backtest.pageSize = 7  // leads' events span pages
        var candidate: [String: String] = [:], active: [String: String] = [:]
        for outcome in try outcomes(backtest, live) {
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
        XCTAssertTrue(segments.allSatisfy { ($0["candidate"] as? [String: Any])?["goal"] == nil }, "no goal, no goal figures")
        XCTAssertEqual(try RulesetFixtures.memberships(live), underA, "a backtest writes no lead state")
        XCTAssertEqual(try live.count("SELECT count(*) FROM decisions"), decisions)

        // The guard: the backtest says more than 10 % of the routing moves.
        var answer = try client.json("POST", "/v1/rulesets/2/activate", key: live.adminKey, [:])
        XCTAssertEqual(answer.status, 409, answer.text)
        XCTAssertEqual(live.app.engine.ruleset.version, 1)
        answer = try client.json("POST", "/v1/rulesets/2/activate", key: live.adminKey, ["confirm": true])
        XCTAssertEqual(answer.status, 200, answer.text)
    }

    /// B with a goal on the carter segment: a second add to cart within a week of the first.
    static let bWithGoal = RulesetFixtures.b.replacingOccurrences(
        of: "route: { email: { sequence: carts } }",
        with: "route: { email: { sequence: carts } }\n    goal: { when: 'count(added_to_cart, 30d) >= 2', within: 7d }")

    /// A period that starts halfway through the history: each lead starts from its state at
    /// `from` (its earlier events replayed, not counted), so the memberships at `to` are still
    /// those of the whole history applied under the candidate, only the period's events and
    /// entries are counted, and the goal conversion of the period's entrants is what the copy
    /// recorded in `segment_goal_reached`.
    func testBacktestStartsFromTheStateAtFromAndCountsGoalConversion() throws {
        let (live, replay, start, userOf) = try copies(candidate: Self.bWithGoal)
        let underB = try RulesetFixtures.memberships(replay)
        let total = (0..<RulesetFixtures.users).map { RulesetFixtures.events(user: $0).count }.reduce(0, +)
        // Events are a minute apart from `start`: the period holds the second half of them.
        let from = start.addingTimeInterval(Double(total / 2) * 60 - 1), end = live.clock.now.addingTimeInterval(1)
        var backtest = try backtestOfVersion2(live, from: from, to: end)
        XCTAssertEqual(backtest.warmup, 30 * 86_400, "the longest signal window")
        backtest.pageSize = 7

        var candidate: [String: String] = [:]
        var events = 0
        for outcome in try outcomes(backtest, live) {
            candidate[userOf[outcome.leadId]!] = outcome.candidate.final.newState.memberships.keys.sorted().joined(separator: ",")
            events += outcome.events
        }
        XCTAssertEqual(candidate, underB, "every lead, also one whose events all precede `from`, ends as the whole history under the candidate")
        XCTAssertEqual(events, total - total / 2, "only the period's events are counted")

        let report = try XCTUnwrap(try JobRunner.run(backtest, pool: live.app.pool) { _ in true })
        let carter = try XCTUnwrap(report.segments.first { $0.name == "awareness.high-intent.carter" })
        let conn = try replay.connection()
        let entered = try conn.query("""
            SELECT count(*) FROM membership_history WHERE segment = 'awareness.high-intent.carter' AND change = 'entered' AND occurred_at >= \(from)
            """).scalar(Int.self)
        let reached = try conn.query("""
            SELECT count(*) FROM segment_goal_reached WHERE segment = 'awareness.high-intent.carter' AND entered_at >= \(from)
            """).scalar(Int.self)
        XCTAssertGreaterThan(reached, 0)
        XCTAssertLessThan(reached, entered)
        XCTAssertEqual(carter.candidate.entries, entered, "entries of the period only")
        XCTAssertEqual(carter.candidate.goal?.reached, reached)
        XCTAssertEqual(try XCTUnwrap(carter.candidate.goal?.conversion), Double(reached) / Double(entered), accuracy: 1e-12)
        XCTAssertNil(carter.active.goal, "the active version has no such segment, so no goal")
        XCTAssertNil(report.segments.first { $0.name == "awareness.low-intent.viewer" }?.candidate.goal)
    }

    /// The report of `backtest` run on `workers` workers as sorted-key JSON, with its timings
    /// zeroed: what two runs are compared by, byte for byte.
    static func reportText(_ backtest: Backtest, live: TestService, workers: Int) throws -> String {
        var report = try XCTUnwrap(try JobRunner.run(backtest, pool: live.app.pool, workers: workers) { _ in true })
        report.seconds = 0
        report.eventsPerSecond = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    /// The report is the same whether one worker replays every lead or several split them (by
    /// the hash of the lead id), pages of 7 events splitting leads across pages: the parts merge
    /// to the same counts, goal conversions, shares and examples.
    func testTheReportIsTheSameForOneAndSeveralWorkers() throws {
        let (live, _, start, _) = try copies(candidate: Self.bWithGoal)
        let total = (0..<RulesetFixtures.users).map { RulesetFixtures.events(user: $0).count }.reduce(0, +)
        var backtest = try backtestOfVersion2(live, from: start.addingTimeInterval(Double(total / 3) * 60), to: live.clock.now.addingTimeInterval(1))
        backtest.pageSize = 7
        func report(_ workers: Int) throws -> String { try Self.reportText(backtest, live: live, workers: workers) }
        let one = try report(1)
        XCTAssertTrue(one.contains("\"examples\":[{"), one)
        XCTAssertTrue(one.contains("\"goal\":{\"conversion\""), one)
        for workers in [2, 3, 5] { XCTAssertEqual(try report(workers), one, "\(workers) workers") }
        let split = Set((0..<200).map { _ in Backtest.worker(of: UUID(), among: 3) })
        XCTAssertEqual(split, [0, 1, 2], "the hash spreads leads over every worker")
        let lead = UUID()
        XCTAssertEqual(Backtest.worker(of: lead, among: 3), Backtest.worker(of: lead, among: 3))
    }

    /// Each worker after the first replays with its own compiled copy of both versions
    /// (`Backtest.compileEngines`, as the job and the CLI set it): the report is byte for byte the
    /// one of workers sharing the engines, and the versions are compiled once per further worker.
    func testWorkersWithTheirOwnEnginesGiveTheSameReport() throws {
        let (live, _, start, _) = try copies(candidate: Self.bWithGoal)
        var backtest = try backtestOfVersion2(live, from: start.addingTimeInterval(-1), to: live.clock.now.addingTimeInterval(1))
        backtest.pageSize = 7
        let shared = try Self.reportText(backtest, live: live, workers: 1)
        XCTAssertEqual(try Self.reportText(backtest, live: live, workers: 3), shared)
        let stored = try XCTUnwrap(try live.app.rulesetAdmin.version(2)), current = try XCTUnwrap(try live.app.rulesetAdmin.version(1))
        let compiled = Locked(0)
        backtest.compileEngines = {
            compiled.withLock { $0 += 1 }
            return (try RulesetAdmin.engine(for: stored), try RulesetAdmin.engine(for: current))
        }
        for workers in [1, 2, 3] {
            compiled.withLock { $0 = 0 }
            XCTAssertEqual(try Self.reportText(backtest, live: live, workers: workers), shared, "\(workers) workers with their own engines")
            XCTAssertEqual(compiled.withLock { $0 }, workers - 1, "each worker after the first compiles its own")
        }
        XCTAssertTrue(shared.contains("\"examples\":[{"), shared)
    }

    /// Leads are replayed without explanations and only the report's examples again with them:
    /// the report is byte for byte the one of replaying every lead with explanations
    /// (`Backtest.explainsEveryLead`), the examples' explanations included, on 1 and 2 workers.
    func testExplainingOnlyTheExamplesGivesTheSameReport() throws {
        let (live, _, start, _) = try copies(candidate: Self.bWithGoal)
        var backtest = try backtestOfVersion2(live, from: start.addingTimeInterval(-1), to: live.clock.now.addingTimeInterval(1))
        backtest.pageSize = 7
        func report(_ workers: Int) throws -> String { try Self.reportText(backtest, live: live, workers: workers) }
        let quick = try report(1)
        XCTAssertEqual(try report(2), quick)
        backtest.explainsEveryLead = true
        let explained = try report(2)
        XCTAssertEqual(quick, explained, "examples explained on demand equal every lead explained")
        XCTAssertTrue(quick.contains("\"examples\":[{"), quick)
        XCTAssertTrue(quick.contains("\"clauses\":[{"), "the examples carry their explanations: \(quick)")
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
