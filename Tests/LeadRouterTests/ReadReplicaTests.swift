import Foundation
import Postgres
import XCTest
@testable import LeadRouterService

/// `DATABASE_READ_URL`: the CRM read API reads a streaming standby that applies WAL 3 s late
/// (`recovery_min_apply_delay`), except for what must be fresh (docs/scale-out.md#read-replicas).
final class ReadReplicaTests: XCTestCase {
    func testReadsGoToTheReplicaExceptALeadThisNodeJustWrote() throws {
        let cluster = try ReplicatedPostgres(synchronous: false, applyDelay: "3s")
        defer { cluster.stop() }
        let app = try cluster.app { $0.databaseReadURL = cluster.standbyURL; $0.readMaxLag = 60 }
        defer { app.stop() }
        let (client, ingestKey, readKey) = try Self.keysAndClient(app, cluster)
        XCTAssertTrue(Self.wait(10) { app.readRouting.replicaLag != nil }, "the lag is measured")

        // A lead written through this node reads back fresh: its reads go to the primary.
        var r = try client.json("POST", "/v1/events", key: ingestKey, ["userId": "rr-mine", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 200, r.text)
        let mine = try XCTUnwrap(r.json["lead_id"] as? String)
        var before = app.readRouting.readCounts
        r = try client.json("GET", "/v1/leads/\(mine)", key: readKey)
        XCTAssertEqual(r.status, 200, "read your own write at once: \(r.text)")
        r = try client.json("GET", "/v1/leads/\(mine)/segments", key: readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(app.readRouting.readCounts.primary - before.primary, 2)
        XCTAssertEqual(app.readRouting.readCounts.replica - before.replica, 0)

        // A lead another node wrote (here: straight into the primary) is read from the
        // replica, which has not applied it yet: 404 now, 200 once the delay has passed.
        let other = try Self.leadWrittenElsewhere(app, cluster)
        before = app.readRouting.readCounts
        r = try client.json("GET", "/v1/leads/\(other)", key: readKey)
        XCTAssertEqual(r.status, 404, "the replica is 3 s behind: \(r.text)")
        r = try client.json("GET", "/v1/leads?segment=awareness.early-intent.researcher", key: readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(app.readRouting.readCounts.replica - before.replica, 2, "both reads on the replica")
        XCTAssertEqual(app.readRouting.readCounts.primary - before.primary, 0)
        XCTAssertTrue(Self.wait(15) { (try? client.json("GET", "/v1/leads/\(other)", key: readKey).status) == 200 },
                      "the replica catches up")

        // A lookup by user id that misses on the replica asks the primary: fresh as well.
        r = try client.json("POST", "/v1/events", key: ingestKey, ["userId": "rr-mine-2", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 200, r.text)
        r = try client.json("GET", "/v1/leads?user_id=rr-mine-2", key: readKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertNotNil(r.json["id"] as? String, r.text)

        // /readyz says where reads go.
        r = try client.json("GET", "/readyz", key: nil)
        XCTAssertTrue(r.text.contains("read_replica"), r.text)

        // /metrics publishes the lag the node acts on and where the reads went.
        r = try client.json("GET", "/metrics", key: readKey)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.text.contains("leadrouter_db_replica_up 1"), r.text)
        let lagLine = r.text.split(separator: "\n").first { $0.hasPrefix("leadrouter_db_replica_lag_seconds ") }
        let lag = try XCTUnwrap(lagLine.flatMap { Double($0.split(separator: " ")[1]) }, r.text)
        XCTAssertTrue(lag >= 0 && lag < 60, "\(lag)")
        XCTAssertTrue(r.text.contains("leadrouter_db_replica_max_lag_seconds 60"), r.text)
        XCTAssertTrue(r.text.contains(#"leadrouter_db_reads_total{target="replica"}"#), r.text)
    }

    /// A replica lagging beyond `database.read_max_lag` is skipped: the reads go to the primary
    /// and see what the replica has not applied yet.
    func testALaggingReplicaIsSkipped() throws {
        let cluster = try ReplicatedPostgres(synchronous: false, applyDelay: "3s")
        defer { cluster.stop() }
        let app = try cluster.app { $0.databaseReadURL = cluster.standbyURL; $0.readMaxLag = 1 }
        defer { app.stop() }
        let (client, _, readKey) = try Self.keysAndClient(app, cluster)
        let other = try Self.leadWrittenElsewhere(app, cluster)
        XCTAssertTrue(Self.wait(10) { (app.readRouting.replicaLag ?? 0) > 1 }, "the lag shows: \(String(describing: app.readRouting.replicaLag))")
        let before = app.readRouting.readCounts
        let r = try client.json("GET", "/v1/leads/\(other)", key: readKey)
        XCTAssertEqual(r.status, 200, "read from the primary: \(r.text)")
        XCTAssertEqual(app.readRouting.readCounts.primary - before.primary, 1)
        XCTAssertEqual(app.readRouting.readCounts.replica - before.replica, 0)
        XCTAssertTrue(app.readRouting.status.contains("reads go to the primary"), app.readRouting.status)
    }

    // MARK: - helpers

    /// A client, an ingest key and a read key, once the replica has applied the keys (they are
    /// read from the primary, but the test waits so later delays start from a caught-up replica).
    static func keysAndClient(_ app: LeadRouterApp, _ cluster: ReplicatedPostgres) throws -> (TestHTTPClient, String, String) {
        let ingest = try app.createKey(name: "ingest", scopes: [.ingest])
        let read = try app.createKey(name: "read", scopes: [.read])
        let standby = try PostgresConnection(url: cluster.standbyURL, logger: TestDatabases.logger)
        XCTAssertTrue(wait(20) { (try? standby.query("SELECT count(*) FROM api_keys").scalar(Int.self)) == 2 })
        return (try TestHTTPClient(port: app.port!), ingest, read)
    }

    /// A lead written by another node (no read replica of its own) through its ingest API:
    /// this node has not noted it as its own write.
    static func leadWrittenElsewhere(_ app: LeadRouterApp, _ cluster: ReplicatedPostgres) throws -> String {
        let other = try cluster.app()
        defer { other.stop() }
        let key = try other.createKey(name: "other-node", scopes: [.ingest])
        let r = try TestHTTPClient(port: other.port!).json("POST", "/v1/events", key: key, [
            "userId": "rr-other-\(UUID().uuidString)", "event": "Product Viewed"])
        XCTAssertEqual(r.status, 200, r.text)
        return try XCTUnwrap(r.json["lead_id"] as? String)
    }

    static func wait(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition()
    }
}
