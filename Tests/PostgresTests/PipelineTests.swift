import Foundation
import Postgres
import XCTest

/// Pipeline mode: many statements, one round trip, all-or-nothing.
final class PipelineTests: FreshDatabaseTestCase {

    func testRunsStatementsInOrderAndReturnsTheirRows() throws {
        let conn = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        for round in 0..<2 {  // the second round runs on cached prepared statements
            let base = round * 10
            let results = try conn.pipeline([
                "INSERT INTO items VALUES (\(base + 1), \("one"))",
                "INSERT INTO items SELECT x, 'n' || x FROM unnest(\([base + 2, base + 3])) AS x",
                "SELECT id, name FROM items WHERE id > \(base) ORDER BY id",
            ])
            XCTAssertEqual(results.count, 3)
            XCTAssertEqual(results[0].affectedRows, 1)
            XCTAssertEqual(results[1].affectedRows, 2)
            XCTAssertEqual(try results[2].map { try $0.decode(Int.self, "id") }, [base + 1, base + 2, base + 3])
            XCTAssertEqual(try results[2][2].decode(String.self, "name"), "n\(base + 3)")
        }
        XCTAssertEqual(conn.preparedStatementCount, 3)
    }

    func testAFailureRollsBackTheWholePipelineAndKeepsTheConnection() throws {
        let conn = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE items (id int PRIMARY KEY)")
        XCTAssertThrowsError(
            try conn.pipeline([
                "INSERT INTO items VALUES (\(1))",
                "INSERT INTO items VALUES (\(1))",
                "INSERT INTO items VALUES (\(2))",
            ])
        ) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23505") }
        XCTAssertTrue(conn.isUsable)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM items").scalar(Int.self), 0)
        // A syntax error while preparing is reported too, and the cache stays consistent.
        XCTAssertThrowsError(try conn.pipeline(["INSERT INTO items VALUES (\(5))", "SELEC \(1)"])) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "42601")
        }
        let results = try conn.pipeline(["INSERT INTO items VALUES (\(5))", "SELECT count(*) AS n FROM items"])
        XCTAssertEqual(try results[1].scalar(Int.self), 1)
    }

    func testLongPipelineInsideATransaction() throws {
        let conn = try TestDatabase.connect(url)
        try conn.executeScript(unsafeSQL: "CREATE TABLE items (id int PRIMARY KEY, payload text)")
        let payload = String(repeating: "x", count: 2_000)
        let queries: [PostgresQuery] = (0..<2_000).map { "INSERT INTO items VALUES (\($0), \(payload)) RETURNING id, payload" }
        let results = try conn.withTransaction { tx in try tx.pipeline(queries) }
        XCTAssertEqual(results.count, 2_000)
        XCTAssertEqual(try results[1_999].scalar(Int.self), 1_999)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM items").scalar(Int.self), 2_000)
    }

    /// `roundTrips` counts exchanges with the server: a pipeline is one, whatever its length.
    func testCountsRoundTrips() throws {
        let conn = try TestDatabase.connect(url)
        let start = conn.roundTrips
        try conn.executeScript(unsafeSQL: "CREATE TABLE items (id int PRIMARY KEY)")
        XCTAssertEqual(conn.roundTrips - start, 1)
        try conn.query("INSERT INTO items VALUES (\(1))")  // prepared, then executed
        XCTAssertEqual(conn.roundTrips - start, 3)
        try conn.query("INSERT INTO items VALUES (\(2))")  // executed
        XCTAssertEqual(conn.roundTrips - start, 4)
        _ = try conn.pipeline(["INSERT INTO items VALUES (\(3))", "INSERT INTO items VALUES (\(4))", "SELECT count(*) FROM items"])
        XCTAssertEqual(conn.roundTrips - start, 5)
    }
}

/// The server ending the session (57P01, `pg_terminate_backend`) mid-pipeline is a lost
/// connection whatever result it lands in place of (a statement's, or the sync's), never a
/// protocol violation: callers must see `isConnectionError` (a COMMIT's outcome is then unknown).
final class PipelineTerminationTests: FreshDatabaseTestCase {
    func testTheSessionEndedMidPipelineIsAConnectionError() throws {
        for trailing in [0, 1, 3] {
            let conn = try TestDatabase.connect(url)
            var queries: [PostgresQuery] = ["SELECT 1", "SELECT pg_terminate_backend(pg_backend_pid())"]
            queries += Array(repeating: "SELECT 2", count: trailing)
            XCTAssertThrowsError(try conn.pipeline(queries)) { error in
                let pg = error as? PostgresError
                XCTAssertEqual(pg?.isConnectionError, true, "\(trailing) trailing: \(error)")
                XCTAssertNotEqual(pg?.code, .protocolViolation, "\(trailing) trailing: \(error)")
            }
            XCTAssertFalse(conn.isUsable)
        }
    }
}
