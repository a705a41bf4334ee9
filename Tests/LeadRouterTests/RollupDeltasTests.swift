import Essentials
import Foundation
import Postgres
import XCTest
@testable import Ingest
import Insight
@testable import LeadRouterService
@testable import LeadStore

/// The rollup deltas of migration 0070: ingest writes what it adds to the metrics rollups into
/// delta tables, one node folds them, and reads add the unfolded ones. Reads agree before and
/// after a fold; two nodes folding at once never count a delta twice; a fold that does not
/// commit (a crash) leaves the deltas to the next one and counts nothing.
final class RollupDeltasTests: XCTestCase {
    /// The stage funnel of `StageMetricsTests` with a segment that also has an exit and a goal.
    static let rules = StageMetricsTests.v1.replacingOccurrences(of: """
            enter: 'count(product_viewed, 1d) >= 1'
        """, with: """
            enter: 'count(product_viewed, 1d) >= 1'
            exit: 'count(added_to_cart, 1d) >= 1'
            goal: { when: 'count(added_to_cart, 1d) >= 1', within: 7d }
        """)
    static let segment = "awareness.low-intent.viewer"
    let t0 = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    func app(_ url: String, clock: ManualClock) throws -> LeadRouterApp {
        try Self.app(url, clock: clock, rules: Self.rules)
    }

    /// A node with `rules`, the clock given, and no background job (folds are the test's).
    static func app(_ url: String, clock: ManualClock, rules: String) throws -> LeadRouterApp {
        var options = LeadRouterApp.Options(databaseURL: url, rulesYAML: rules, rulesFileName: "rules.yaml")
        options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
        options.runSweeper = false
        options.runDriftJobs = false
        options.rollupFoldInterval = nil
        options.webhooks.enabled = false
        options.server.host = "127.0.0.1"
        options.server.port = 0
        options.clock = { clock.now }
        return try LeadRouterApp(options: options, logger: TestDatabases.logger)
    }

    static func track(_ app: LeadRouterApp, _ clock: ManualClock, user: String, _ event: String) throws {
        let body = Array(#"{"userId": "\#(user)", "event": "\#(event)"}"#.utf8)
        let message = try SegmentMessageDecoder().decodeSingle(body, kind: .track, receivedAt: clock.now)
        _ = try app.ingest.ingest(message, writeKey: UUID())
    }

    /// Everything the segment and stage metrics read, as one comparable text.
    func metrics(_ app: LeadRouterApp) throws -> String {
        try app.pool.withConnection { conn in
            let store = Store(conn)
            var out = ""
            for unit in ["hour", "day", "week"] {
                let from = unit == "week" ? Date(timeIntervalSince1970: 1_793_577_600) : t0.addingTimeInterval(-9 * 3600)  // Monday; the day
                let to = from.addingTimeInterval(14 * 86_400)
                let s = try store.segmentMetrics(segment: Self.segment, from: from, to: to, unit: unit)
                out += "\(unit) size0=\(s.sizeAtStart) steps=\(Self.summed(s.steps)) stay=\(s.stay.sorted { $0.key < $1.key }) "
                out += "channels=\(s.channels.mapValues { $0.sorted { $0.key < $1.key } }.sorted { $0.key < $1.key })\n"
                let st = try store.stageMetrics(from: from, to: to, unit: unit, stages: ["decision", "consideration", "awareness"])
                out += "stages moves=\(Self.summed(st.moves)) stays=\(st.stays.mapValues { $0.sorted { $0.key < $1.key } }.sorted { $0.key < $1.key })\n"
            }
            return out
        }
    }

    /// The reads return rollup rows as stored (a folded row and the unfolded deltas of the same
    /// bucket are separate rows); the caller adds the rows of a step, so the comparison does too.
    static func summed(_ steps: [SegmentMetricsStep]) -> String {
        var by: [Date: SegmentMetricsStep] = [:]
        for r in steps {
            var s = by[r.start] ?? SegmentMetricsStep(start: r.start)
            s.entries += r.entries; s.exitsRule += r.exitsRule; s.exitsTime += r.exitsTime; s.exitsMerge += r.exitsMerge
            s.exitsRuleset += r.exitsRuleset; s.exitsErase += r.exitsErase; s.goalReached += r.goalReached; s.dropOffs += r.dropOffs
            by[r.start] = s
        }
        return "\(by.values.sorted { $0.start < $1.start })"
    }

    static func summed(_ moves: [StageMoveCount]) -> String {
        var by: [String: StageMoveCount] = [:]
        for m in moves {
            let key = "\(m.start.timeIntervalSince1970) \(m.from ?? -1) \(m.to ?? -1)"
            var s = by[key] ?? StageMoveCount(start: m.start, from: m.from, to: m.to, moves: 0, goalReached: 0)
            s.moves += m.moves; s.goalReached += m.goalReached
            by[key] = s
        }
        return "\(by.sorted { $0.key < $1.key }.map(\.value))"
    }

    func count(_ app: LeadRouterApp, _ sql: String) throws -> Int {
        try app.pool.withConnection { try $0.query(PostgresQuery(unsafeRaw: sql)).scalar(Int.self) }
    }

    /// The folded rollups hold exactly what the history holds: one entry per entry row, one exit
    /// per exit row, one move per stage row, one conversion per goal row; the daily sums agree with
    /// the hourly ones, and the packed hours with the hourly pairs.
    func assertFoldedRollupsMatchHistory(_ app: LeadRouterApp, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try count(app, "SELECT count(*) FROM segment_rollup_deltas"), 0, file: file, line: line)
        XCTAssertEqual(try count(app, "SELECT count(*) FROM stage_rollup_deltas"), 0, file: file, line: line)
        let checks: [(String, String)] = [
            ("SELECT coalesce(sum(entries), 0) FROM segment_metrics_hourly_folded", "SELECT count(*) FROM membership_history WHERE change = 'entered'"),
            ("SELECT coalesce(sum(exits_rule + exits_time + exits_merge + exits_ruleset + exits_erase), 0) FROM segment_metrics_hourly_folded",
             "SELECT count(*) FROM membership_history WHERE change = 'exited'"),
            ("SELECT coalesce(sum(goal_reached), 0) FROM segment_metrics_hourly_folded", "SELECT count(*) FROM segment_goal_reached"),
            ("SELECT coalesce(sum(entries), 0) FROM segment_metrics_daily_folded", "SELECT coalesce(sum(entries), 0) FROM segment_metrics_hourly_folded"),
            ("SELECT coalesce(sum(goal_reached + drop_offs), 0) FROM segment_metrics_daily_folded",
             "SELECT coalesce(sum(goal_reached + drop_offs), 0) FROM segment_metrics_hourly_folded"),
            ("SELECT coalesce(sum(entrants), 0) FROM segment_entrant_channels_daily_folded",
             "SELECT 2 * count(*) FROM membership_history WHERE change = 'entered'"),
            ("SELECT coalesce(sum(moves), 0) FROM stage_moves_hourly_folded", "SELECT count(*) FROM stage_history"),
            ("SELECT coalesce(sum(moves), 0) FROM stage_moves_daily_folded", "SELECT count(*) FROM stage_history"),
            ("SELECT coalesce(sum(goal_reached), 0) FROM stage_moves_hourly_folded", "SELECT count(*) FROM stage_goal_reached"),
            ("SELECT coalesce(sum(exits), 0) FROM stage_stay_monthly_folded", "SELECT coalesce(sum(exits), 0) FROM stage_stay_daily_folded"),
            ("SELECT coalesce(sum(exits), 0) FROM segment_stay_monthly_folded", "SELECT coalesce(sum(exits), 0) FROM segment_stay_daily_folded"),
            // Every packed hour (migration 0086) is its folded pairs packed, and no hour is missing.
            ("""
             SELECT count(*) FROM stage_moves_hourly_packed p FULL JOIN (
                 SELECT bucket, string_agg(leadrouter_stage_move_packed(from_stage, to_stage, moves, goal_reached), ''::bytea
                                           ORDER BY from_stage, to_stage) AS moves
                 FROM stage_moves_hourly_folded GROUP BY bucket) f USING (bucket)
             WHERE p.moves IS DISTINCT FROM f.moves
             """, "SELECT 0"),
            ("SELECT count(*) FROM stage_moves_hourly_packed", "SELECT count(DISTINCT bucket) FROM stage_moves_hourly_folded"),
        ]
        for (rollup, truth) in checks {
            XCTAssertEqual(try count(app, rollup), try count(app, truth), rollup, file: file, line: line)
        }
    }

    func testReadsAgreeBeforeAndAfterAFoldAndAFoldThatDoesNotCommitCountsNothing() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let node = try app(url, clock: clock)
        defer { node.stop() }
        for (i, user) in ["a", "b", "c", "d"].enumerated() {
            clock.set(t0.addingTimeInterval(Double(i) * 600))
            try Self.track(node, clock, user: user, "Product Viewed")
            clock.set(t0.addingTimeInterval(Double(i) * 600 + 60))
            try Self.track(node, clock, user: user, "Product Viewed")
        }
        clock.set(t0.addingTimeInterval(3 * 3600))
        try Self.track(node, clock, user: "a", "Product Added")      // exit by rule, goal reached, stage decision
        try Self.track(node, clock, user: "b", "Product Added")
        clock.set(t0.addingTimeInterval(26 * 3600))
        try Self.track(node, clock, user: "c", "Order Completed")

        let unfolded = try metrics(node)
        XCTAssertTrue(unfolded.contains("entries: 4"), unfolded)
        let deltas = try node.pool.withConnection { try Store($0).unfoldedRollupDeltas() }
        XCTAssertGreaterThan(deltas, 0)
        XCTAssertEqual(try count(node, "SELECT count(*) FROM segment_metrics_hourly_folded"), 0, "nothing folded yet")

        // A fold whose transaction never commits (the node dies before COMMIT) changes nothing.
        let rolledBack = try node.pool.withConnection { conn -> Int in
            _ = try conn.execute("BEGIN")
            let n = try conn.query("SELECT leadrouter_fold_rollup_deltas() AS n").scalar(Int.self)
            _ = try conn.execute("ROLLBACK")
            return n
        }
        XCTAssertEqual(rolledBack, deltas)
        XCTAssertEqual(try node.pool.withConnection { try Store($0).unfoldedRollupDeltas() }, deltas)
        XCTAssertEqual(try metrics(node), unfolded)

        XCTAssertEqual(try node.rollupFolder.foldOnce(), deltas)
        XCTAssertEqual(try node.rollupFolder.foldOnce(), 0)
        XCTAssertEqual(try metrics(node), unfolded, "the same answers from the folded rollups")
        try assertFoldedRollupsMatchHistory(node)

        // New deltas on top of folded rows: still the sum of both.
        clock.set(t0.addingTimeInterval(27 * 3600))
        try Self.track(node, clock, user: "d", "Product Added")
        let mixed = try metrics(node)
        XCTAssertNotEqual(mixed, unfolded)
        try node.rollupFolder.foldOnce()
        XCTAssertEqual(try metrics(node), mixed)
        try assertFoldedRollupsMatchHistory(node)
    }

    /// The heap pages of both delta tables (main fork; on Citus of every shard, the
    /// coordinator's own tables staying empty). Their key's B-tree is not counted: VACUUM never
    /// shrinks an index.
    func deltaPages(_ node: LeadRouterApp) throws -> Int {
        let size = try count(node, "SELECT (to_regproc('citus_relation_size') IS NOT NULL)::int") == 1 ? "citus_relation_size" : "pg_relation_size"
        return try count(node, "SELECT (\(size)('segment_rollup_deltas') + \(size)('stage_rollup_deltas')) / 8192")
    }

    func trackNewViewers(_ node: LeadRouterApp, _ clock: ManualClock, round r: Int, _ n: Int = 200) throws {
        for i in 0..<n { try Self.track(node, clock, user: "r\(r)-\(i)", "Product Viewed") }
    }

    /// A fold that deleted deltas vacuums the delta tables (`reclaimFoldedRollupDeltas`), so the
    /// next deltas reuse the folded ones' room: under load — deltas committed after the fold's
    /// snapshot, the fold reporting the tables refilled — the tables keep their pages
    /// (`TRUNCATE false`) and stay at about a fold interval's rows instead of growing until
    /// autovacuum comes by (issue 23, target 7). Without the VACUUM, three rounds of the same
    /// events take three times the pages of one.
    func testAFoldUnderLoadLeavesTheFoldedDeltasRoomToTheNextOnes() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let node = try app(url, clock: clock)
        defer { node.stop() }
        var one = 0
        for r in 0..<3 {
            try trackNewViewers(node, clock, round: r)
            let before = try deltaPages(node)
            // The fold as `RollupFolder.foldOnce` runs it, then vacuumed as under load (nothing truncated).
            let fold = try node.pool.withTransaction { try Store($0).foldRollupDeltas() }
            XCTAssertGreaterThan(fold?.folded ?? 0, 0)
            XCTAssertEqual(fold?.refilled, [], "nothing was written after the fold")
            try node.pool.withConnection { try Store($0).reclaimFoldedRollupDeltas(truncating: []) }
            XCTAssertEqual(try deltaPages(node), before, "a table with rows left keeps its pages")
            if r == 0 { one = before }
        }
        XCTAssertGreaterThan(one, 0)
        XCTAssertLessThan(try deltaPages(node), one + one / 2)
        try assertFoldedRollupsMatchHistory(node)
    }

    /// `body` with a node on a new database after 200 new viewers, and the delta tables' heap
    /// pages then (at least 3, before any fold).
    func withViewedNode(_ body: (LeadRouterApp, ManualClock, Int) throws -> Void) throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let node = try app(url, clock: clock)
        defer { node.stop() }
        try trackNewViewers(node, clock, round: 0)
        let before = try deltaPages(node)
        XCTAssertGreaterThanOrEqual(before, 3)
        try body(node, clock, before)
    }

    /// A fold that leaves a delta table empty — nothing committed since its snapshot, as once a
    /// load stops — truncates it (`TRUNCATE true`): its heap goes back to at most a page instead
    /// of keeping the busiest interval's pages (225–265 B per event at the end of the storage
    /// benchmark, docs/benchmarks/storage.md 2026-12-07 22:13). Before this change the pages stayed.
    func testAFoldThatLeavesTheDeltaTablesEmptyGivesTheirPagesBack() throws {
        try withViewedNode { node, clock, before in
            XCTAssertGreaterThan(try node.rollupFolder.foldOnce() ?? 0, 0)
            XCTAssertLessThanOrEqual(try deltaPages(node), 1, "from \(before) pages")
            XCTAssertEqual(try count(node, "SELECT count(*) FROM segment_rollup_deltas"), 0)
            // The next deltas find the tables as new ones, and the next fold empties them again.
            try trackNewViewers(node, clock, round: 1)
            XCTAssertGreaterThanOrEqual(try deltaPages(node), 3)
            XCTAssertGreaterThan(try node.rollupFolder.foldOnce() ?? 0, 0)
            XCTAssertLessThanOrEqual(try deltaPages(node), 1)
            try assertFoldedRollupsMatchHistory(node)
        }
    }

    /// A node that reads a replica never truncates (`RollupFolder.truncatesEmptiedTables`): a
    /// hot standby replays the truncation's lock unconditionally, against its own rollup reads.
    /// Its fold of the same deltas keeps their pages.
    func testANodeReadingAReplicaKeepsTheEmptiedPages() throws {
        try withViewedNode { node, _, before in
            let folder = RollupFolder(pool: node.pool, interval: 2, truncatesEmptiedTables: false, logger: TestDatabases.logger)
            XCTAssertGreaterThan(try folder.foldOnce() ?? 0, 0)
            XCTAssertEqual(try deltaPages(node), before)
            try assertFoldedRollupsMatchHistory(node)
        }
    }

    /// The fold's report sees a delta committed after the fold's own snapshot (its check is a
    /// statement of its own in the fold's READ COMMITTED transaction): such a table is reported
    /// refilled, and vacuumed without truncation; a table nothing was written to, emptied.
    func testAFoldReportsATableWrittenAfterItsSnapshotAsRefilled() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let node = try app(url, clock: clock)
        defer { node.stop() }
        try trackNewViewers(node, clock, round: 0, 20)
        let folder = try PostgresConnection(configuration: PostgresConfiguration(url: url), logger: TestDatabases.logger)
        _ = try folder.execute("BEGIN")
        XCTAssertGreaterThan(try folder.query("SELECT leadrouter_fold_rollup_deltas() AS n").scalar(Int.self), 0)
        XCTAssertEqual(try Store.refilledRollupDeltaTables(folder.query(Store.refilledRollupDeltaTables)), [])
        // A membership change committed by another connection while the fold's transaction is open.
        try trackNewViewers(node, clock, round: 1, 1)
        XCTAssertEqual(try Store.refilledRollupDeltaTables(folder.query(Store.refilledRollupDeltaTables)), RollupDeltaTable.allCases,
                       "a new viewer enters a segment and the awareness stage")
        _ = try folder.execute("COMMIT")
        XCTAssertEqual(RollupFold(folded: 1, refilled: [.segment]).emptied, [.stage])
        XCTAssertEqual(RollupFold(folded: 1, refilled: []).emptied, RollupDeltaTable.allCases)
    }

    func testTwoNodesFoldingWhileIngestRunsNeverCountTwice() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let a = try app(url, clock: clock), b = try app(url, clock: clock)
        defer { a.stop(); b.stop() }

        // While one fold holds the lock, the other node's fold skips its turn.
        try a.pool.withTransaction { conn in
            XCTAssertNotNil(try Store(conn).foldRollupDeltas())
            XCTAssertNil(try b.rollupFolder.foldOnce())
        }

        // Without the lock (the function alone), two folds at once: the second waits on the first's
        // row locks and then skips the rows it deleted.
        clock.set(t0)
        for user in ["p", "q", "r"] { try Self.track(a, clock, user: user, "Product Viewed") }
        let first = try PostgresConnection(configuration: PostgresConfiguration(url: url), logger: TestDatabases.logger)
        let second = try PostgresConnection(configuration: PostgresConfiguration(url: url), logger: TestDatabases.logger)
        _ = try first.execute("BEGIN")
        let folded = try first.query("SELECT leadrouter_fold_rollup_deltas() AS n").scalar(Int.self)
        XCTAssertGreaterThan(folded, 0)
        let secondDone = expectation(description: "second fold")
        let secondCount = Locked<Int?>(nil)
        Thread {
            secondCount.withLock { $0 = try? second.query("SELECT leadrouter_fold_rollup_deltas() AS n").scalar(Int.self) }
            secondDone.fulfill()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        _ = try first.execute("COMMIT")
        wait(for: [secondDone], timeout: 30)
        XCTAssertEqual(secondCount.withLock { $0 }, 0)
        try assertFoldedRollupsMatchHistory(a)

        // Two nodes ingesting and folding (each on its own pool, the lock deciding) at once.
        let stop = Locked(false)
        let failures = Locked<[String]>([])
        let folding = DispatchGroup(), ingesting = DispatchGroup()
        for node in [a, b] {
            folding.enter()
            Thread {
                defer { folding.leave() }
                while !stop.withLock({ $0 }) {
                    do { try node.rollupFolder.foldOnce() } catch { failures.withLock { $0.append("fold: \(error)") } }
                }
            }.start()
        }
        for (n, node) in [a, b].enumerated() {
            ingesting.enter()
            Thread {
                defer { ingesting.leave() }
                do {
                    for i in 0..<40 {
                        try Self.track(node, clock, user: "u\(n)-\(i % 13)", i % 3 == 2 ? "Product Added" : "Product Viewed")
                    }
                } catch { failures.withLock { $0.append("ingest: \(error)") } }
            }.start()
        }
        XCTAssertEqual(ingesting.wait(timeout: .now() + 120), .success)
        stop.withLock { $0 = true }
        XCTAssertEqual(folding.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertGreaterThan(try count(a, "SELECT count(*) FROM membership_history"), 20)
        try a.rollupFolder.foldOnce()
        try assertFoldedRollupsMatchHistory(a)
    }

    /// One statement of many leads (migration 0080: the delta functions no longer compare each row
    /// with every lead of the statement; on Citus each lead's rows go to its shard alone): every
    /// lead's entry and exit in the same statement, as an import or a large lane batch writes
    /// them. Each exit finds its lead's entry — not another lead's — and gets that stay's bucket;
    /// each entry gets its own lead's channels (a NULL last touch being the first); the stage
    /// moves likewise.
    func testOneStatementOfManyLeadsGivesEachLeadItsOwnDeltas() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let node = try app(url, clock: ManualClock(t0))
        defer { node.stop() }
        let leads = 300
        let lead = { (i: String) in "('00000000-0000-4000-8000-' || lpad(to_hex(\(i)), 12, '0'))::uuid" }
        try node.pool.withConnection { conn in
            _ = try conn.execute(PostgresQuery(unsafeRaw: """
                INSERT INTO leads (id, email, stage, status, source_first, source_last, updated_at, created_at)
                SELECT \(lead("g")), 'm' || g || '@example.com', 'awareness', 'new', jsonb_build_object('channel', 'first-' || g),
                       CASE WHEN g % 3 <> 0 THEN jsonb_build_object('channel', 'last-' || g) END, now(), now()
                FROM generate_series(1, \(leads)) AS g
                """))
            // Lead g enters at t0 + g minutes and leaves g × 37 s later, by rule (odd g) or by time.
            _ = try conn.execute(PostgresQuery(unsafeRaw: """
                WITH h AS (
                    INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
                    SELECT \(lead("g")), 'awareness.low-intent.viewer', c.change, NULL, 1,
                           CASE WHEN c.change = 'entered' OR g % 2 = 1 THEN gen_random_uuid() END,
                           timestamptz '2026-11-02 09:00:00Z' + g * interval '1 minute'
                             + CASE WHEN c.change = 'exited' THEN g * 37 * interval '1 second' ELSE interval '0' END
                    FROM generate_series(1, \(leads)) AS g CROSS JOIN (VALUES ('entered'), ('exited')) AS c(change)
                    RETURNING *)
                \(Store.segmentDeltasOfH)
                """))
            // And moves from awareness to consideration g × 53 s after entering awareness.
            _ = try conn.execute(PostgresQuery(unsafeRaw: """
                WITH h AS (
                    INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
                    SELECT \(lead("g")), m.f, m.t, 'event', 1, gen_random_uuid(),
                           timestamptz '2026-11-02 09:00:00Z' + g * interval '1 minute' + m.i * g * 53 * interval '1 second'
                    FROM generate_series(1, \(leads)) AS g CROSS JOIN (VALUES (0, '', 'awareness'), (1, 'awareness', 'consideration')) AS m(i, f, t)
                    RETURNING *)
                \(Store.stageDeltasOfH)
                """))
        }
        func k(_ seconds: Int) -> Int { Int((4 * log2(Double(seconds) + 1)).rounded(.down)) }
        var segmentExpected: [String] = [], stageExpected: [String] = []
        for g in 1...leads {
            // A NULL last touch (every third lead) is the first (migration 0100).
            segmentExpected.append("\(g) entered first-\(g) \(g % 3 == 0 ? "first" : "last")-\(g)")
            segmentExpected.append("\(g) exited \(g % 2 == 1 ? "rule" : "time") k=\(k(g * 37)) drop_off")
            stageExpected.append("\(g) -awareness")
            stageExpected.append("\(g) awareness-consideration k=\(k(g * 53))")
        }
        let segmentDeltas = try node.pool.withConnection { conn in
            try conn.query("""
                SELECT ('x' || right(lead_id::text, 12))::bit(48)::int8 AS g,
                       CASE WHEN entries = 1 THEN 'entered ' || channel_first || ' ' || channel_last
                            ELSE 'exited ' || CASE WHEN exits_rule = 1 THEN 'rule' WHEN exits_time = 1 THEN 'time' ELSE '?' END
                                 || ' k=' || coalesce(k::text, 'none') || CASE WHEN drop_offs = 1 THEN ' drop_off' ELSE '' END END AS d
                FROM segment_rollup_deltas ORDER BY 1, entries DESC
                """).map { "\(try $0.decode(Int.self, "g")) \(try $0.decode(String.self, "d"))" }
        }
        XCTAssertEqual(segmentDeltas, segmentExpected)
        let stageDeltas = try node.pool.withConnection { conn in
            try conn.query("""
                SELECT ('x' || right(lead_id::text, 12))::bit(48)::int8 AS g,
                       from_stage || '-' || to_stage || coalesce(' k=' || k, '') AS d
                FROM stage_rollup_deltas ORDER BY 1, from_stage
                """).map { "\(try $0.decode(Int.self, "g")) \(try $0.decode(String.self, "d"))" }
        }
        XCTAssertEqual(stageDeltas, stageExpected)
    }
}
