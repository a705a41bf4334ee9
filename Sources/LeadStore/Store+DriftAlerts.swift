import Foundation
import Postgres

extension Store {
    /// Tries the drift check's advisory lock for this transaction: false when another node holds it.
    package func tryDriftCheckLock() throws -> Bool {
        try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.driftLockKey)::int8) AS got").scalar(Bool.self)
    }

    /// An arbitrary constant, the same on every node ("lr-drift").
    static let driftLockKey: Int64 = 0x6c72_2d64_7269_6674

    /// Records the alerts found by a check at `now` (`drift_alerts`, migration 0025) and returns
    /// the ids not open before (new, or back after they cleared): the ones to announce. Open
    /// alerts absent from `current` are marked resolved.
    package func recordDriftAlerts(_ current: [String], now: Date) throws -> [String] {
        var open = Set<String>()
        for row in try connection.query("SELECT id FROM drift_alerts WHERE resolved_at IS NULL") { open.insert(try row.decode(String.self, "id")) }
        let fresh = current.filter { !open.contains($0) }
        if !current.isEmpty {
            try connection.execute("""
                INSERT INTO drift_alerts AS a (id, first_detected, last_detected)
                SELECT id, \(now), \(now) FROM unnest(\(current)::text[]) AS t(id)
                ON CONFLICT (id) DO UPDATE SET last_detected = excluded.last_detected, resolved_at = NULL,
                    first_detected = CASE WHEN a.resolved_at IS NULL THEN a.first_detected ELSE excluded.first_detected END
                """)
        }
        let gone = Array(open.subtracting(current))
        if !gone.isEmpty {
            try connection.execute("UPDATE drift_alerts SET resolved_at = \(now) WHERE id = ANY (\(gone)::text[]) AND resolved_at IS NULL")
        }
        return fresh
    }
}
