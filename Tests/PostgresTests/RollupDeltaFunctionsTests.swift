import Foundation
import Postgres
import XCTest

/// What migration 0101 changed in the rollup delta functions of the lane transaction: the same
/// deltas for less PostgreSQL CPU (issue 23, docs/benchmarks/ingest.md "pg-cpu").
final class RollupDeltaFunctionsTests: MigratedDatabaseTestCase {
    /// The logarithm migration 0070 computed the bucket with, for comparison.
    private static let logarithm = "floor(4 * log(2, greatest(s, 0)::numeric + 1))::smallint"

    /// `leadrouter_stay_bucket` (0101) gives the numeric logarithm's bucket at and beside every
    /// bucket bound of stays up to ~34 years (the bounds 2^(k/4) − 1 and the whole seconds
    /// 2^n − 1, ± 1 and 2 µs), for negative stays (0) and random ones; the buckets
    /// `StayHistogram.bucket(seconds:)` gives (floor(4 · log2(s + 1)) in Double) for a few stays;
    /// and the exact bucket where the logarithm rounded up across a bound (stays over 96 years).
    func testStayBucketIsTheLogarithmsBucket() throws {
        let differ = try conn.query("""
            WITH s(s) AS (
                SELECT round(2 ^ (k / 4.0) - 1, 6) + d FROM generate_series(0, 120) k, unnest('{-0.000002,-0.000001,0,0.000001,0.000002}'::numeric[]) d
                UNION ALL SELECT 2::numeric ^ n - 1 + d FROM generate_series(0, 31) n, unnest('{-0.000001,0,0.000001}'::numeric[]) d
                UNION ALL SELECT round((random() * 10 ^ (random() * 9))::numeric, 6) FROM generate_series(1, 2000)
                UNION ALL VALUES (-5), (0), (0.000001))
            SELECT count(*) FILTER (WHERE leadrouter_stay_bucket(s) IS DISTINCT FROM \(unsafeRaw: Self.logarithm)) AS differ,
                   count(*) AS n FROM s
            """).first!
        XCTAssertEqual(try differ.decode(Int.self, "differ"), 0)
        XCTAssertGreaterThan(try differ.decode(Int.self, "n"), 2_600)
        let buckets: [(Double, Int)] = [(0, 0), (0.5, 2), (1, 4), (2.5, 7), (59, 23), (3_600, 47), (86_400.25, 65), (31_536_000, 99)]
        for (seconds, k) in buckets {
            XCTAssertEqual(try conn.query("SELECT leadrouter_stay_bucket(\(seconds)::numeric) AS k").scalar(Int.self), k, "\(seconds) s")
        }
        // x = s + 1, x^4 = 85070591730234538279752550277332441874.01… < 2^126: bucket 125 (the logarithm said 126).
        XCTAssertEqual(try conn.query("SELECT leadrouter_stay_bucket(3037000498.976049) AS k").scalar(Int.self), 125)
    }

    /// The bucket is inlined into the delta queries (no SQL function call per history row) and
    /// nothing there computes a numeric logarithm any more.
    func testStayBucketIsInlinedIntoTheDeltaFunctions() throws {
        let plan = try conn.query("""
            EXPLAIN (VERBOSE, COSTS OFF) SELECT leadrouter_stay_bucket(extract(epoch FROM h.occurred_at - timestamptz '2026-01-01')::numeric)
            FROM stage_history h
            """).map { try $0.decode(String.self, "QUERY PLAN") }.joined(separator: "\n")
        XCTAssertFalse(plan.contains("leadrouter_stay_bucket"), plan)
        XCTAssertTrue(plan.contains("width_bucket"), plan)
        for function in ["leadrouter_stage_deltas", "leadrouter_segment_deltas"] {
            let body = try conn.query("SELECT prosrc FROM pg_proc WHERE proname = \(function)").scalar(String.self)
            XCTAssertFalse(body.contains("log(2"), function)
            XCTAssertTrue(body.contains("leadrouter_stay_bucket("), function)
        }
    }

    /// The delta functions keep one generic plan per connection (0101) instead of planning their
    /// query for every lane transaction.
    func testDeltaFunctionsPlanOncePerConnection() throws {
        let settings = try conn.query("""
            SELECT proname, array_to_string(proconfig, ',') AS config FROM pg_proc
            WHERE proname IN ('leadrouter_segment_deltas', 'leadrouter_stage_deltas', 'leadrouter_stage_goal_entries')
            """).map { (try $0.decode(String.self, "proname"), try $0.decode(String.self, "config")) }
        XCTAssertEqual(settings.count, 3)
        for (name, config) in settings {
            XCTAssertTrue(config.contains("plan_cache_mode=force_generic_plan"), "\(name): \(config)")
        }
    }
}
