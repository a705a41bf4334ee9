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

    /// The migrated and distributed database `scripts/test.sh --citus` made on every node
    /// (`citus_test_template` in scripts/lib/citus-cluster.sh), when there is one.
    static var template: String? {
        let env = ProcessInfo.processInfo.environment
        guard !workerURLs.isEmpty, let name = env["LEADROUTER_TEST_CITUS_TEMPLATE"], !name.isEmpty else { return nil }
        return name
    }

    /// Creates `name` on the coordinator (`base`) and on every worker as a copy of `template`:
    /// the copies are a cluster database of their own, already migrated and distributed (the
    /// test's `migrate` finds nothing to do), in about a second instead of 8-20 s.
    static func create(name: String, from template: String, base: String) throws {
        for server in [base] + workerURLs {
            try PostgresConnection(url: server, logger: TestDatabases.logger)
                .executeScript(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)")
        }
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
