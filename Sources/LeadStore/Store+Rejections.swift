import Foundation
import Postgres

extension Store {
    /// Adds `counts` (reason → messages) to the rejected-message counters of `writeKey` for
    /// the UTC day of `at` (`rejected_messages`, migration 0008), in one statement.
    package func countRejectedMessages(_ counts: [String: Int], writeKey: UUID, at: Date) throws {
        guard !counts.isEmpty else { return }
        let reasons = counts.keys.sorted()
        let numbers = reasons.map { counts[$0]! }
        try connection.execute("""
            INSERT INTO rejected_messages AS r (day, write_key_id, reason, count)
            SELECT (\(at) AT TIME ZONE 'UTC')::date, \(writeKey), x.reason, x.count
            FROM unnest(\(reasons)::text[], \(numbers)::bigint[]) AS x(reason, count)
            ON CONFLICT (day, write_key_id, reason) DO UPDATE SET count = r.count + excluded.count
            """)
    }
}
