import Foundation
import Postgres
import XCTest

/// `PostgresTransaction`: statements added to round trips with a handle each, BEGIN and COMMIT
/// sent by the transaction itself (in the first and last round trips), rollback on any error,
/// and a COMMIT whose outcome is unknown told apart from a rollback.
final class TransactionBuilderTests: FreshDatabaseTestCase {
    struct Boom: Error {}

    func makeTable(_ conn: PostgresConnection) throws {
        try conn.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)")
    }

    func testHandlesReturnTheirOwnStatementsResults() throws {
        let conn = try TestDatabase.connect(url)
        try makeTable(conn)
        try conn.query("INSERT INTO t VALUES (1, 10), (2, 20)")
        let (sum, ids, inserted, count) = try conn.withPipelinedTransaction { tx in
            tx.add("SELECT set_config('application_name', 'builder-test', true)")
            let sum = tx.add("SELECT sum(v)::int8 AS s FROM t") { try $0.scalar(Int.self) }
            let ids = tx.add("SELECT id FROM t ORDER BY id DESC") { try $0.map { try $0.decode(Int.self, "id") } }
            let inserted = tx.add("INSERT INTO t VALUES (3, 30), (4, 40)")
            XCTAssertThrowsError(try sum.get(), "a result cannot be read before its round trip")
            try tx.send()
            // A second round trip: its handles index its own statements, not the first one's.
            let count = tx.add("SELECT count(*) AS n FROM t") { try $0.scalar(Int.self) }
            try tx.send()
            return (try sum.get(), try ids.get(), try inserted.get().affectedRows, try count.get())
        }
        XCTAssertEqual(sum, 30)
        XCTAssertEqual(ids, [2, 1])
        XCTAssertEqual(inserted, 2)
        XCTAssertEqual(count, 4)
    }

    /// BEGIN goes out with the first round trip (so both round trips see one transaction start
    /// time) and COMMIT with the writes left after the body: two round trips, one transaction.
    func testBeginAndCommitAreSentByTheTransactionInTwoRoundTrips() throws {
        let conn = try TestDatabase.connect(url)
        try makeTable(conn)
        var seen: PostgresTransaction?
        let starts = try conn.withPipelinedTransaction(isolation: .repeatableRead) { tx -> [Date] in
            seen = tx
            XCTAssertEqual(tx.state, .notBegun)
            XCTAssertFalse(tx.connection.isInTransaction)
            let first = tx.add("SELECT now() AS t, current_setting('transaction_isolation') AS iso")
            tx.add("INSERT INTO t VALUES (1, 1)")
            try tx.send()
            XCTAssertEqual(tx.state, .open)
            XCTAssertTrue(tx.connection.isInTransaction)
            XCTAssertEqual(try first.get()[0].decode(String.self, "iso"), "repeatable read")
            // Statements run directly on the connection once it began are inside the transaction.
            let direct = try tx.connection.query("SELECT now() AS t").scalar(Date.self)
            tx.add("INSERT INTO t VALUES (2, 2)")
            return [try first.get()[0].decode(Date.self, "t"), direct]
        }
        XCTAssertEqual(starts[0], starts[1], "one transaction: now() is its start time")
        XCTAssertEqual(seen?.state, .committed)
        XCTAssertEqual(seen?.roundTrips, 2)
        XCTAssertFalse(conn.isInTransaction)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM t").scalar(Int.self), 2)
        XCTAssertEqual(try conn.query("SELECT count(DISTINCT xmin::text) FROM t").scalar(Int.self), 1)
    }

    func testRoundTripCounts() throws {
        let conn = try TestDatabase.connect(url)
        try makeTable(conn)
        var tx: PostgresTransaction?
        // Nothing added: nothing sent at all.
        try conn.withPipelinedTransaction { tx = $0 }
        XCTAssertEqual(tx?.roundTrips, 0)
        // Only writes: BEGIN, the writes and COMMIT in one round trip.
        try conn.withPipelinedTransaction { tx = $0; $0.add(contentsOf: ["INSERT INTO t VALUES (1, 1)", "INSERT INTO t VALUES (2, 2)"]) }
        XCTAssertEqual(tx?.roundTrips, 1)
        // Sending with nothing new added is no round trip; a lone BEGIN and a lone COMMIT are one each.
        try conn.withPipelinedTransaction { t in
            tx = t
            try t.send()
            try t.send()
            XCTAssertEqual(try t.connection.query("SELECT count(*) FROM t").scalar(Int.self), 2)
        }
        XCTAssertEqual(tx?.roundTrips, 2)
        XCTAssertEqual(try conn.query("SELECT count(DISTINCT xmin::text) FROM t").scalar(Int.self), 1)
    }

    /// Before its BEGIN went out, a statement sent directly on the connection would run outside
    /// the transaction: it throws instead, and the transaction rolls back.
    func testDirectStatementBeforeBeginIsRefused() throws {
        let conn = try TestDatabase.connect(url)
        try makeTable(conn)
        XCTAssertThrowsError(
            try conn.withPipelinedTransaction { tx in
                try tx.connection.query("INSERT INTO t VALUES (1, 1)")
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.code, .protocolViolation) }
        XCTAssertEqual(try conn.query("SELECT count(*) FROM t").scalar(Int.self), 0)
    }

    func testAnyErrorRollsBack() throws {
        let conn = try TestDatabase.connect(url)
        try makeTable(conn)
        try conn.query("INSERT INTO t VALUES (1, 1)")
        var tx: PostgresTransaction?
        // The body throws after its first round trip.
        XCTAssertThrowsError(
            try conn.withPipelinedTransaction { t in
                tx = t
                t.add("INSERT INTO t VALUES (2, 2)")
                try t.send()
                throw Boom()
            }
        ) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(tx?.state, .rolledBack)
        XCTAssertFalse(conn.isInTransaction)
        // A statement of the first round trip fails: the later ones are skipped, nothing stays.
        XCTAssertThrowsError(
            try conn.withPipelinedTransaction { t in
                tx = t
                t.add("INSERT INTO t VALUES (3, 3)")
                let skipped = t.add("INSERT INTO t VALUES (1, 9)")
                defer { XCTAssertThrowsError(try skipped.get()) }
                try t.send()
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, .uniqueViolation) }
        XCTAssertEqual(tx?.state, .rolledBack)
        // A write sent with COMMIT fails: COMMIT is skipped, the earlier round trip is rolled back too.
        XCTAssertThrowsError(
            try conn.withPipelinedTransaction { t in
                tx = t
                t.add("INSERT INTO t VALUES (4, 4)")
                try t.send()
                t.add("INSERT INTO t VALUES (1, 9)")
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, .uniqueViolation) }
        XCTAssertEqual(tx?.state, .rolledBack)
        XCTAssertFalse(conn.isInTransaction)
        XCTAssertTrue(conn.isUsable)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM t").scalar(Int.self), 1)
    }

    /// A serialization failure in the COMMIT's round trip runs the body again, with a new transaction.
    func testSerializationFailureWithTheCommitRetriesTheBody() throws {
        let conn = try TestDatabase.connect(url)
        let other = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO counter VALUES (1, 1)")
        var attempts = 0
        try conn.withPipelinedTransaction(isolation: .repeatableRead) { tx in
            attempts += 1
            tx.add("SELECT v FROM counter WHERE id = 1")  // snapshot taken in the first round trip
            try tx.send()
            if attempts == 1 { try other.query("UPDATE counter SET v = v + 1 WHERE id = 1") }
            tx.add("UPDATE counter SET v = v + 10 WHERE id = 1")  // goes with COMMIT; 40001 on the first attempt
        }
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(try conn.query("SELECT v FROM counter").scalar(Int.self), 12)
    }

    /// The connection breaking in a round trip before the COMMIT's is a rollback (`connectionLost`);
    /// breaking in the COMMIT's round trip leaves the outcome unknown (`commitOutcomeUnknown`).
    func testConnectionLostDuringCommitIsUnknownAndBeforeItIsRolledBack() throws {
        let conn = try TestDatabase.connect(url)
        try makeTable(conn)
        var tx: PostgresTransaction?
        XCTAssertThrowsError(
            try conn.withPipelinedTransaction { t in
                tx = t
                t.add("INSERT INTO t VALUES (1, 1)")
                try t.send()
                try TestDatabase.terminate([t.connection.backendPID])
                t.add("INSERT INTO t VALUES (2, 2)")
            }
        ) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.code, .commitOutcomeUnknown)
            XCTAssertEqual(pg?.isConnectionError, true)
            XCTAssertEqual(pg?.isUnavailable, true)
        }
        XCTAssertEqual(tx?.state, .commitOutcomeUnknown)
        XCTAssertFalse(conn.isUsable)

        let second = try TestDatabase.connect(url)
        XCTAssertThrowsError(
            try second.withPipelinedTransaction { t in
                tx = t
                t.add("INSERT INTO t VALUES (3, 3)")
                try t.send()
                try TestDatabase.terminate([t.connection.backendPID])
                t.add("INSERT INTO t VALUES (4, 4)")
                try t.send()
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.code, .connectionLost) }
        XCTAssertEqual(tx?.state, .rolledBack)
        XCTAssertEqual(try TestDatabase.connect(url).query("SELECT count(*) FROM t").scalar(Int.self), 0)
    }

    func testPoolRunsAPipelinedTransactionAndDropsTheConnectionAfterAnUnknownCommit() throws {
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: url), settings: .init(minConnections: 0, maxConnections: 1),
            logger: TestDatabase.logger)
        defer { pool.close() }
        try pool.withConnection { try makeTable($0) }
        let n = try pool.withPipelinedTransaction { tx in
            tx.add("INSERT INTO t VALUES (1, 1)")
            let n = tx.add("SELECT count(*) AS n FROM t") { try $0.scalar(Int.self) }
            try tx.send()
            return try n.get()
        }
        XCTAssertEqual(n, 1)
        XCTAssertThrowsError(
            try pool.withPipelinedTransaction { tx in
                try tx.send()
                try TestDatabase.terminate([tx.connection.backendPID])
                tx.add("INSERT INTO t VALUES (2, 2)")
            }
        ) { XCTAssertEqual(($0 as? PostgresError)?.code, .commitOutcomeUnknown) }
        XCTAssertEqual(try pool.query("SELECT count(*) AS n FROM t").scalar(Int.self), 1, "a fresh connection replaced the broken one")
    }
}
