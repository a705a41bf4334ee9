import Essentials
import Foundation
import Postgres
import XCTest

/// `withTransaction`: commit, rollback on throw, retry on serialization failure.
final class TransactionTests: FreshDatabaseTestCase {
    struct Boom: Error {}


    func testCommitsAndRollsBackOnThrow() throws {
        let conn = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)")
        try conn.withTransaction { tx in try tx.query("INSERT INTO t VALUES (1, 1)") }
        XCTAssertThrowsError(
            try conn.withTransaction { tx in
                try tx.query("INSERT INTO t VALUES (2, 2)")
                try tx.query("UPDATE t SET v = 100 WHERE id = 1")
                throw Boom()
            }
        ) { XCTAssertTrue($0 is Boom) }
        XCTAssertFalse(conn.isInTransaction)
        let rows = try conn.query("SELECT id, v FROM t ORDER BY id")
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(try rows[0].decode(Int.self, "v"), 1)
        // A failing statement also rolls back everything before it.
        XCTAssertThrowsError(
            try conn.withTransaction { tx in
                try tx.query("INSERT INTO t VALUES (3, 3)")
                try tx.query("INSERT INTO t VALUES (1, 9)")
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23505") }
        XCTAssertEqual(try conn.query("SELECT count(*) FROM t").scalar(Int.self), 1)
    }

    /// A transaction whose BEGIN goes out in its first pipeline and COMMIT in its last (both sent
    /// by the transaction): one transaction, no second COMMIT; a failure in the last pipeline
    /// leaves nothing behind.
    func testBeginAndCommitRideInTheBodysPipelines() throws {
        let conn = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)")
        try conn.withPipelinedTransaction { tx in
            tx.add("INSERT INTO t VALUES (1, 1)")
            try tx.send()
            XCTAssertTrue(tx.connection.isInTransaction)
            tx.add("INSERT INTO t VALUES (2, 2)")
        }
        XCTAssertFalse(conn.isInTransaction)
        XCTAssertEqual(try conn.query("SELECT count(DISTINCT xmin::text) FROM t").scalar(Int.self), 1)
        XCTAssertThrowsError(
            try conn.withPipelinedTransaction { tx in
                tx.add("INSERT INTO t VALUES (3, 3)")
                try tx.send()
                tx.add("INSERT INTO t VALUES (1, 9)")
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23505") }
        XCTAssertFalse(conn.isInTransaction)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM t").scalar(Int.self), 2)
    }

    func testRetriesOnForcedSerializationFailure() throws {
        let conn = try TestDatabase.connect(url)
        let other = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO counter VALUES (1, 1)")
        var attempts = 0
        let seen = try conn.withTransaction(isolation: .repeatableRead) { tx -> Int in
            attempts += 1
            let before = try tx.query("SELECT v FROM counter WHERE id = 1").scalar(Int.self)  // snapshot taken
            if attempts == 1 {
                // Another session changes the row after our snapshot: our update must fail with 40001.
                try other.query("UPDATE counter SET v = v + 1 WHERE id = 1")
            }
            try tx.query("UPDATE counter SET v = v + 10 WHERE id = 1")
            return before
        }
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(seen, 2)  // the retry saw the other session's committed update
        XCTAssertEqual(try conn.query("SELECT v FROM counter").scalar(Int.self), 12)
    }

    func testGivesUpAfterMaxAttemptsWithTheSQLState() throws {
        let conn = try TestDatabase.connect(url)
        let other = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO counter VALUES (1, 1)")
        var attempts = 0
        XCTAssertThrowsError(
            try conn.withTransaction(isolation: .serializable, maxAttempts: 3) { tx in
                attempts += 1
                _ = try tx.query("SELECT v FROM counter WHERE id = 1")
                try other.query("UPDATE counter SET v = v + 1 WHERE id = 1")
                try tx.query("UPDATE counter SET v = v + 10 WHERE id = 1")
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "40001") }
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(try conn.query("SELECT v FROM counter").scalar(Int.self), 4)
    }

    func testRetriesTheDeadlockVictim() throws {
        let setup = try TestDatabase.connect(url)
        try setup.executeScript(unsafeSQL: "CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL); INSERT INTO acct VALUES (1, 0), (2, 0)")
        // Two transactions lock rows 1 and 2 in opposite orders; both wait at a barrier after the
        // first lock, so on their first attempt they are bound to deadlock. One is the victim
        // (40P01), rolls back and runs again; both end up committed.
        let barrier = DispatchGroup()
        barrier.enter(); barrier.enter()
        let attempts = Locked<[Int]>([0, 0])
        let failures = Locked<[String]>([])
        let done = DispatchGroup()
        for (index, order) in [(0, [1, 2]), (1, [2, 1])] {
            done.enter()
            let connection = try TestDatabase.connect(url)
            try connection.executeScript(unsafeSQL: "SET deadlock_timeout = '50ms'")
            Thread.detachNewThread {
                defer { done.leave() }
                do {
                    try connection.withTransaction { tx in
                        let attempt = attempts.withLock { $0[index] += 1; return $0[index] }
                        try tx.query("UPDATE acct SET v = v + 1 WHERE id = \(order[0])")
                        if attempt == 1 {
                            barrier.leave()
                            _ = barrier.wait(timeout: .now() + 10)
                        }
                        try tx.query("UPDATE acct SET v = v + 1 WHERE id = \(order[1])")
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertEqual(attempts.withLock { $0.reduce(0, +) }, 3)  // exactly one retry
        let values = try setup.query("SELECT v FROM acct ORDER BY id").map { try $0.decode(Int.self, "v") }
        XCTAssertEqual(values, [2, 2])
    }
}
