import Foundation
import Postgres

extension Store {
    /// How far behind its primary this server is, in seconds: 0 on a primary and on a standby
    /// that has replayed all it received; else the age of the last transaction it replayed
    /// (an over-estimate after a quiet spell, never an under-estimate).
    package func replicationLag() throws -> Double {
        try connection.query("""
            SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
                        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                        ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
                   END::float8 AS lag
            """).scalar(Double.self)
    }
}
