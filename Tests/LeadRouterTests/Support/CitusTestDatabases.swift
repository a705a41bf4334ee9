import Foundation
import Postgres

/// Under `scripts/test.sh --citus` (`LEADROUTER_TEST_CITUS=1`) `DATABASE_URL` is a Citus
/// coordinator and `CITUS_WORKER_URLS` its two workers (scripts/lib/citus-cluster.sh). A test's
/// throwaway database is then a cluster of its own: the same database on every node with the
/// extension, the workers added to the coordinator's metadata. `migrate` (run by every
/// `TestService`) then distributes the tables as in production (docs/scale-out.md#citus-the-cluster).
enum CitusTestDatabases {
    /// The workers' server URLs, when the tests run on Citus.
    static var workerURLs: [String] {
        let env = ProcessInfo.processInfo.environment
        guard env["LEADROUTER_TEST_CITUS"] == "1", let urls = env["CITUS_WORKER_URLS"] else { return [] }
        return urls.split(separator: " ").map(String.init)
    }

    /// Makes the database `name`, just created on the coordinator (`url`), a Citus cluster.
    static func prepare(name: String, url: String) throws {
        let workers = workerURLs
        guard !workers.isEmpty else { return }
        for worker in workers {
            try PostgresConnection(url: worker, logger: TestDatabases.logger).executeScript(unsafeSQL: "CREATE DATABASE \(name)")
            try PostgresConnection(url: with(worker, database: name), logger: TestDatabases.logger)
                .executeScript(unsafeSQL: "CREATE EXTENSION citus")
        }
        let coordinator = try PostgresConnection(url: url, logger: TestDatabases.logger)
        let host = URLComponents(string: url)!
        var script = "CREATE EXTENSION citus; SELECT citus_set_coordinator_host('\(host.host!)', \(host.port!));"
        for worker in workers {
            let w = URLComponents(string: worker)!
            script += "SELECT citus_add_node('\(w.host!)', \(w.port!));"
        }
        try coordinator.executeScript(unsafeSQL: script)
    }

    /// TEMPORARY (merger: remove this and its call in TestService once branch rollup-deltas is
    /// in, which replaces these triggers): the rollup triggers read transition tables, which
    /// Citus cannot run on a distributed table, and stop every ingest that changes a membership.
    /// Disabled on the cluster only, so the journey, ingest and webhook tests get past them
    /// (segment and stage metrics stay empty there); plain PostgreSQL keeps them.
    static func disableRollupTriggers(url: String) throws {
        guard !workerURLs.isEmpty else { return }
        // One statement a call: Citus sends each to the workers, which refuse several at once.
        let conn = try PostgresConnection(url: url, logger: TestDatabases.logger)
        try conn.executeScript(unsafeSQL: "SET citus.enable_unsafe_triggers = on")
        for (table, trigger) in [("membership_history", "membership_history_rollup"), ("segment_goal_reached", "segment_goal_reached_rollup"),
                                 ("segment_metrics_hourly", "segment_metrics_hourly_daily_insert"),
                                 ("segment_metrics_hourly", "segment_metrics_hourly_daily_update"),
                                 ("stage_history", "stage_history_rollup"), ("stage_goal_reached", "stage_goal_reached_rollup")] {
            try conn.executeScript(unsafeSQL: "ALTER TABLE \(table) DISABLE TRIGGER \(trigger)")
        }
    }

    /// Drops `name` on the workers too.
    static func drop(name: Substring) {
        for worker in workerURLs {
            try? PostgresConnection(url: worker, logger: TestDatabases.logger)
                .executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    static func with(_ url: String, database: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + database
        return components.string!
    }
}
