import Essentials
import Foundation
import Postgres
import XCTest
@testable import LeadRouterService

/// The dashboard's pages, the lead export and the metrics API read the replica with the CRM
/// reads' freshness rule (`ReadRouting`, docs/scale-out.md#read-replicas). Where each read went
/// is counted twice: by the node (`readCounts`) and by the servers themselves
/// (`pg_stat_statements` on the primary and on the standby), so a read that bypasses the
/// routing and goes straight to the primary is seen too. The standby applies WAL 3 s late.
final class ReplicaDashboardExportTests: XCTestCase {
    static let segment = "awareness.early-intent.researcher"

    func testTheDashboardAndExportsReadTheReplicaExceptWhatThisNodeJustWrote() throws {
        let node = try Node(readMaxLag: 60)
        defer { node.stop() }
        let (cluster, app, client, ingestKey, readKey, adminKey) = (node.cluster, node.app, node.client, node.ingestKey, node.readKey, node.adminKey)
        XCTAssertTrue(ReadReplicaTests.wait(10) { app.readRouting.replicaLag != nil }, "the lag is measured")

        // A lead this node just wrote exports fresh, from the primary.
        var r = try client.json("POST", "/v1/events", key: ingestKey, ["userId": "rr-export-mine", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 200, r.text)
        let mine = try XCTUnwrap(r.json["lead_id"] as? String)
        var before = app.readRouting.readCounts
        r = try client.json("GET", "/v1/leads/\(mine)/export", key: adminKey)
        XCTAssertEqual(r.status, 200, "an export of this node's write is fresh: \(r.text)")
        XCTAssertTrue(r.text.contains(mine), r.text)
        XCTAssertEqual(app.readRouting.readCounts.primary - before.primary, 1)
        XCTAssertEqual(app.readRouting.readCounts.replica - before.replica, 0)

        // A lead another node wrote is not on the replica yet: the export and the dashboard's
        // lookup read there and do not find it.
        let other = try ReadReplicaTests.leadWrittenElsewhere(app, cluster)
        before = app.readRouting.readCounts
        r = try client.json("GET", "/v1/leads/\(other)/export", key: adminKey)
        XCTAssertEqual(r.status, 404, "the export reads the replica, 3 s behind: \(r.text)")
        r = try client.json("GET", "/dashboard/leads?q=\(other)", key: readKey)
        XCTAssertEqual(r.status, 404, "the lookup reads the replica: \(r.text)")
        XCTAssertEqual(app.readRouting.readCounts.primary - before.primary, 0)
        XCTAssertGreaterThanOrEqual(app.readRouting.readCounts.replica - before.replica, 2)

        // Every page and the metrics API: every statement on the standby, none on the primary.
        // (The overview writes this node's pending drift counts to the primary first: written
        // now, so the pages have nothing to write.)
        try app.drift.flush()
        let (primary, standby) = try Self.statementsRunBy(cluster) {
            for path in ["/dashboard", "/dashboard/segments/\(Self.segment)", "/dashboard/leads",
                         "/v1/segments/\(Self.segment)/metrics", "/v1/stages/metrics"] {
                let page = try client.json("GET", path, key: readKey)
                XCTAssertEqual(page.status, 200, "\(path): \(page.text.prefix(300))")
            }
        }
        XCTAssertEqual(primary, [:], "statements the pages ran on the primary")
        for table in ["segment_metrics_daily", "queue_items", "insight_counts", "memberships", "stage_moves_daily"] {
            XCTAssertTrue(standby.keys.contains { $0.contains(table) }, "no statement on \(table) ran on the standby: \(standby.keys.sorted())")
        }

        // Once the replica has applied the other node's write, its export is there.
        XCTAssertTrue(ReadReplicaTests.wait(15) { (try? client.json("GET", "/v1/leads/\(other)/export", key: adminKey).status) == 200 },
                      "the replica catches up")
    }

    /// With the replica further behind than `read_max_lag`, the same pages and the export read
    /// the primary: nothing runs on the standby but the lag measurement, and the export of a lead
    /// the replica has not applied is found.
    func testALaggingReplicaIsSkippedByTheDashboardAndExports() throws {
        let node = try Node(readMaxLag: 1)
        defer { node.stop() }
        let (cluster, app, client, readKey, adminKey) = (node.cluster, node.app, node.client, node.readKey, node.adminKey)
        let other = try ReadReplicaTests.leadWrittenElsewhere(app, cluster)
        // Keep the replica 3 s behind for the whole test: a commit every 100 ms.
        let pump = try LagPump(cluster.primaryURL)
        defer { pump.stop() }
        XCTAssertTrue(ReadReplicaTests.wait(10) { (app.readRouting.replicaLag ?? 0) > 1 }, "\(String(describing: app.readRouting.replicaLag))")
        // The keys' first use reads them from the primary (then cached): not part of the count.
        XCTAssertEqual(try client.json("GET", "/dashboard/leads", key: readKey).status, 200)
        XCTAssertEqual(try client.json("GET", "/v1/leads/\(UUID().uuidString.lowercased())/export", key: adminKey).status, 404)

        let before = app.readRouting.readCounts
        let (primary, standby) = try Self.statementsRunBy(cluster) {
            for path in ["/dashboard", "/dashboard/segments/\(Self.segment)", "/dashboard/leads?q=\(other)", "/v1/stages/metrics"] {
                let page = try client.json("GET", path, key: readKey)
                XCTAssertEqual(page.status, 200, "\(path) reads the primary, fresh: \(page.text.prefix(300))")
            }
            let export = try client.json("GET", "/v1/leads/\(other)/export", key: adminKey)
            XCTAssertEqual(export.status, 200, "the export reads the primary, fresh: \(export.text.prefix(300))")
            XCTAssertTrue(export.text.contains(other))
        }
        XCTAssertEqual(app.readRouting.readCounts.replica - before.replica, 0)
        XCTAssertGreaterThan(app.readRouting.readCounts.primary - before.primary, 5)
        XCTAssertEqual(standby, [:], "statements the pages ran on the lagging standby")
        XCTAssertTrue(primary.keys.contains { $0.contains("segment_metrics") }, "\(primary.keys.sorted())")
    }

    // MARK: - helpers

    /// A primary with a standby applying WAL 3 s late, both counting statements, and a node
    /// reading the standby, with an ingest, a read and an admin key. The node's background jobs
    /// are off or far apart, so whatever runs on either server during a request is that request's.
    struct Node {
        let cluster: ReplicatedPostgres
        let app: LeadRouterApp
        let client: TestHTTPClient
        let ingestKey: String, readKey: String, adminKey: String

        init(readMaxLag: Double) throws {
            cluster = try ReplicatedPostgres(synchronous: false, applyDelay: "3s", statementStats: true)
            let standby = cluster.standbyURL
            do {
                app = try cluster.app {
                    $0.databaseReadURL = standby; $0.readMaxLag = readMaxLag
                    $0.runQueueWorker = false; $0.runJobs = false; $0.runDriftJobs = false
                    $0.rulesetCheckInterval = 3600; $0.keyUsageFlushInterval = 3600; $0.keyCacheSeconds = 3600
                }
                (client, ingestKey, readKey) = try ReadReplicaTests.keysAndClient(app, cluster)
                adminKey = try app.createKey(name: "admin", scopes: [.admin])
            } catch {
                cluster.stop()
                throw error
            }
        }

        func stop() {
            app.stop()
            cluster.stop()
        }
    }

    /// The statements (text → calls) that ran on the primary and on the standby while `body`
    /// ran, leaving out the node's lag measurement (on the standby) and `LagPump`'s commits.
    static func statementsRunBy(_ cluster: ReplicatedPostgres, _ body: () throws -> Void) throws
        -> (primary: [String: Int], standby: [String: Int]) {
        let before = (try cluster.statementCalls(onStandby: false), try cluster.statementCalls(onStandby: true))
        try body()
        let after = (try cluster.statementCalls(onStandby: false), try cluster.statementCalls(onStandby: true))
        func delta(_ a: [String: Int], _ b: [String: Int]) -> [String: Int] {
            var ran: [String: Int] = [:]
            for (text, calls) in b where calls > a[text, default: 0] {
                if text.contains("pg_last_xact_replay_timestamp") || text.contains("lag_pump") { continue }
                ran[text] = calls - a[text, default: 0]
            }
            return ran
        }
        return (delta(before.0, after.0), delta(before.1, after.1))
    }
}

/// Commits on the primary every 100 ms, so a standby applying WAL late stays that far behind
/// (with nothing to apply, a standby's measured lag drops to 0).
final class LagPump: @unchecked Sendable {
    private let running = Locked(true)
    private let thread: Thread

    init(_ url: String) throws {
        nonisolated(unsafe) let conn = try PostgresConnection(url: url, logger: TestDatabases.logger)
        try conn.executeScript(unsafeSQL: "CREATE TABLE IF NOT EXISTS lag_pump (at timestamptz)")
        let running = self.running
        thread = Thread {
            while running.withLock({ $0 }) {
                _ = try? conn.executeScript(unsafeSQL: "INSERT INTO lag_pump VALUES (now())")
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread.start()
    }

    func stop() {
        running.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 0.2)
    }
}
