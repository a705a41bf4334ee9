import Foundation
import Postgres

extension Store {
    /// The time-in-segment or time-in-stage histogram (`k` → exits, by `keys` when given) of the
    /// UTC days `[from's day, to)`: whole UTC months from `<table>_stay_monthly`, the days of a
    /// partial first and last month from `<table>_stay_daily` (migrations 0048, 0049). A year is
    /// then 12 monthly rows and at most about 60 daily ones per bucket, not 366 daily ones.
    /// `table` and `keys` are names this target chooses (`segment`, `stage, `), never input.
    /// Month starts are computed on UTC wall time (`AT TIME ZONE 'UTC'`), so the session's time
    /// zone cannot move them.
    static func stayHistogramQuery(table: String, keys: String = "", segment: String? = nil, from: Date, to: Date) -> PostgresQuery {
        var q = PostgresQuery(unsafeRaw: "")
        let f = q.bind(from), t = q.bind(to)
        let filter = segment.map { "AND segment = \(q.bind($0))" } ?? ""
        let columns = "\(keys)k, exits"
        q.sql = """
            WITH f AS (SELECT date_bin('1 day', \(f)::timestamptz, timestamptz '2001-01-01 00:00:00Z') AS d),
            r AS (SELECT d, CASE WHEN date_trunc('month', d, 'UTC') = d THEN d
                                 ELSE (date_trunc('month', d AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' END AS m0,
                         date_trunc('month', \(t)::timestamptz, 'UTC') AS m1 FROM f)
            SELECT \(keys)k::int8 AS k, sum(exits)::int8 AS n FROM (
                SELECT \(columns) FROM \(table)_stay_monthly, r WHERE bucket >= r.m0 AND bucket < r.m1 \(filter)
                UNION ALL
                SELECT \(columns) FROM \(table)_stay_daily, r WHERE bucket >= r.d AND bucket < least(r.m0, \(t)::timestamptz) \(filter)
                UNION ALL
                SELECT \(columns) FROM \(table)_stay_daily, r WHERE bucket >= greatest(r.m0, r.m1) AND bucket < \(t)::timestamptz \(filter)
            ) AS rows GROUP BY \(keys)k
            """
        return q
    }
}
