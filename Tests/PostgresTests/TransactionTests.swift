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
}
