import Foundation
import Postgres
import XCTest
@testable import LeadStore

/// Migration 0091: a segment's hours are read from the hourly rollup's primary key alone, in key
/// order, whatever order the fold wrote the heap in (it writes an hour's rows of every segment
/// together, so one segment's year lay on thousands of pages: docs/insight.md "Reading cost").
extension RollupDeltasTests {
    func testASegmentsHoursAreReadFromTheKeyAloneWhateverOrderTheFoldWroteThem() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let node = try app(url, clock: clock)
        defer { node.stop() }
        let hours = 3_000, segments = 20
        try node.pool.withConnection { conn in
            // The key carries every column the read takes, after its two key columns.
            let key = try conn.query("""
                SELECT i.indnkeyatts || ':' || string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i
                CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indexrelid = 'segment_metrics_hourly_pkey'::regclass GROUP BY i.indnkeyatts
                """).scalar(String.self)
            XCTAssertEqual(key, "2:segment,bucket,entries,exits_rule,exits_time,exits_merge,exits_ruleset,exits_erase,goal_reached,drop_offs")

            // Rows in the fold's order: hour by hour, every segment's row of the hour together.
            try conn.executeScript(unsafeSQL: """
                INSERT INTO segment_metrics_hourly_folded (segment, bucket, entries, exits_rule, drop_offs)
                SELECT 'segment-' || s, timestamptz '2026-01-01 00:00:00Z' + h * interval '1 hour', 1 + h % 7, h % 3, s
                FROM generate_series(0, \(hours - 1)) AS h, generate_series(0, \(segments - 1)) AS s ORDER BY h, s
                """)
            // Vacuumed, as autovacuum leaves a table the fold no longer writes: pages all-visible.
            try conn.executeScript(unsafeSQL: "VACUUM ANALYZE segment_metrics_hourly_folded")
            let from = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
            let to = from.addingTimeInterval(Double(hours) * 3600)
            let read = try Store(conn).segmentMetrics(segment: "segment-7", from: from, to: to, unit: "hour")
            XCTAssertEqual(read.steps.count, hours)
            XCTAssertEqual(read.steps.reduce(0) { $0 + $1.entries }, (0..<hours).reduce(0) { $0 + 1 + $1 % 7 })
            XCTAssertEqual(Set(read.steps.map(\.dropOffs)), [7])

            // The plan of the read's hourly part (plain PostgreSQL: on Citus a reference table's
            // scan runs on a placement, behind the distributed plan's custom scan).
            guard CitusTestDatabases.workerURLs.isEmpty else { return }
            let plan = try conn.query(PostgresQuery(unsafeRaw: """
                EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
                SELECT date_part('epoch', bucket)::int8, entries, exits_rule, exits_time, exits_merge, exits_ruleset, exits_erase, goal_reached, drop_offs
                FROM segment_metrics_hourly WHERE segment = 'segment-7' AND bucket >= '2026-01-01 00:00:00Z' AND bucket < '2027-01-01 00:00:00Z'
                """)).scalar(String.self)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(plan.utf8)) as? [[String: Any]]).first?["Plan"]
            var scans: [[String: Any]] = []
            func walk(_ node: Any?) {
                guard let node = node as? [String: Any] else { return }
                if node["Relation Name"] as? String == "segment_metrics_hourly_folded" { scans.append(node) }
                (node["Plans"] as? [Any])?.forEach(walk)
            }
            walk(json)
            XCTAssertEqual(scans.count, 1, plan)
            XCTAssertEqual(scans.first?["Node Type"] as? String, "Index Only Scan", plan)
            XCTAssertEqual(scans.first?["Heap Fetches"] as? Int, 0, plan)
            // The segment's 3 000 hours are spread over every heap page of the table (~600, each
            // holding a few hours of all 20 segments); their key entries fill a few dozen leaf pages.
            let pages = (scans.first?["Shared Hit Blocks"] as? Int ?? 0) + (scans.first?["Shared Read Blocks"] as? Int ?? 0)
            XCTAssertLessThan(pages, hours / 20, plan)
        }
    }
}
