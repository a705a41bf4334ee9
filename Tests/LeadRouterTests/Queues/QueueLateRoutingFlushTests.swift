import Foundation
import Postgres
import XCTest
@testable import Essentials

/// The lane transaction that routes to a sales team lets its COMMIT release the team's
/// round-robin row without waiting for the disk, and answers only once the commit is on disk
/// (issue 23 target 5; `PostgresConnection.deferCommitFlush`, docs/queues.md#assignment).
final class QueueLateRoutingFlushTests: XCTestCase {
    /// One lane transaction as seen just before its COMMIT.
    struct Seen: Sendable {
        var setting: String  // synchronous_commit
        var lsn: String      // the WAL insert position
    }

    func testRoutingCommitDoesNotWaitForTheDiskButItsAnswerDoes() throws {
        let seen = Locked<[Seen]>([])
        let service = try TestService(test: self) { options in
            options.ingestBeforeCommit = { transaction in
                let row = try transaction.connection.query(
                    "SELECT current_setting('synchronous_commit') AS s, pg_current_wal_insert_lsn()::text AS lsn")[0]
                let entry = Seen(setting: try row.decode(String.self, "s"), lsn: try row.decode(String.self, "lsn"))
                seen.withLock { $0.append(entry) }
            }
        }
        let client = try service.client()
        let conn = try service.connection()

        let view = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "flush-1", "event": "Product Viewed"])
        XCTAssertEqual(view.status, 200, view.text)
        XCTAssertEqual(seen.withLock { $0.map { $0.setting } }, ["on"], "a transaction that routes nobody commits as configured")

        for i in 0..<5 {
            seen.withLock { $0 = [] }
            let pricing = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "flush-p\(i)", "event": "Pricing Requested"])
            XCTAssertEqual(pricing.status, 200, pricing.text)
            let sales = (pricing.json["actions"] as? [[String: Any]] ?? []).first { $0["channel"] as? String == "sales" }
            XCTAssertNotNil(sales?["owner_id"] as? String, "routed to an owner")
            let last: Seen? = seen.withLock { $0.last }
            let lane = try XCTUnwrap(last)
            XCTAssertEqual(lane.setting, "off", "the routing transaction's COMMIT does not wait for the disk")
            // Answered: the WAL is flushed past everything that transaction wrote before its COMMIT.
            let flushed = try conn.query("SELECT pg_current_wal_flush_lsn() >= \(lane.lsn)::pg_lsn AS ok")[0].decode(Bool.self, "ok")
            XCTAssertTrue(flushed, "answered before the routing transaction's commit reached the disk (pricing \(i))")
        }
    }

    /// Outside a `PostgresTransaction` nothing is deferred: a statement there commits on its own.
    func testDeferringTheFlushNeedsATransaction() throws {
        let service = try TestService(test: self)
        let conn = try service.connection()
        XCTAssertFalse(conn.deferCommitFlush())
        let inside = try conn.withPipelinedTransaction { tx -> Bool in
            let deferred = conn.deferCommitFlush()
            tx.add(PostgresQuery(unsafeRaw: "SET LOCAL synchronous_commit = off"))
            tx.add(PostgresQuery(unsafeRaw: "CREATE TEMP TABLE flush_probe (x int)"))
            return deferred
        }
        XCTAssertTrue(inside)
        XCTAssertFalse(conn.deferCommitFlush(), "the mark ends with its transaction")
    }
}
