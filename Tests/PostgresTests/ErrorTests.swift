import Foundation
import Postgres
import XCTest

/// Server errors arrive with their SQLSTATE and fields; descriptions never show parameter values.
final class ErrorTests: XCTestCase {
    func testUniqueCheckAndSyntaxErrorsCarrySQLState() throws {
        let conn = try TestDatabase.connect()
        try conn.executeScript(unsafeSQL: """
            CREATE TEMP TABLE people (email text CONSTRAINT people_email_key UNIQUE,
                                      age int CONSTRAINT people_age_check CHECK (age >= 0))
            """)
        try conn.query("INSERT INTO people VALUES (\("secret@example.com"), 30)")
        XCTAssertThrowsError(try conn.query("INSERT INTO people VALUES (\("secret@example.com"), 31)")) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.code, .queryFailed)
            XCTAssertEqual(pg.sqlState, "23505")
            XCTAssertEqual(pg.constraint, "people_email_key")
            XCTAssertEqual(pg.table, "people")
            XCTAssertTrue(pg.detail?.contains("secret@example.com") == true)
            XCTAssertFalse(pg.description.contains("secret@example.com"), pg.description)
        }
        XCTAssertThrowsError(try conn.query("INSERT INTO people VALUES (\("b@example.com"), \(-1))")) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.sqlState, "23514")
            XCTAssertEqual(pg.constraint, "people_age_check")
        }
        XCTAssertThrowsError(try conn.query("SELEC 1")) { error in
            XCTAssertEqual((error as! PostgresError).sqlState, "42601")
        }
        XCTAssertThrowsError(try conn.query("SELECT \("not-a-number")::int")) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.sqlState, "22P02")
            XCTAssertTrue(pg.message.contains("not-a-number"))
            XCTAssertFalse(pg.description.contains("not-a-number"), pg.description)
        }
        // The connection is still usable after statement errors.
        XCTAssertEqual(try conn.query("SELECT count(*) FROM people").scalar(Int.self), 1)
        XCTAssertTrue(conn.isUsable)
    }

    func testClassificationWithoutADatabase() {
        XCTAssertTrue(PostgresError(code: .queryFailed, sqlState: "40001", message: "x").isTransactionRetryable)
        XCTAssertTrue(PostgresError(code: .queryFailed, sqlState: "40P01", message: "x").isTransactionRetryable)
        XCTAssertFalse(PostgresError(code: .queryFailed, sqlState: "23505", message: "x").isTransactionRetryable)
        XCTAssertTrue(PostgresError(code: .queryFailed, sqlState: "08006", message: "x").isConnectionError)
        XCTAssertTrue(PostgresError(code: .queryFailed, sqlState: "57P01", message: "x").isConnectionError)
        XCTAssertFalse(PostgresError(code: .queryFailed, sqlState: "42601", message: "x").isConnectionError)
        let dataError = PostgresError(
            code: .queryFailed, sqlState: "22P02", message: #"invalid input syntax for type uuid: "alice@example.com""#,
            detail: "secret detail", constraint: nil)
        XCTAssertEqual(dataError.description, #"postgres queryFailed [22P02]: invalid input syntax for type uuid: "…""#)
    }

    func testStatementTimeoutIsTimeout() throws {
        let conn = try TestDatabase.connect()
        try conn.executeScript(unsafeSQL: "SET statement_timeout = 50")
        XCTAssertThrowsError(try conn.query("SELECT pg_sleep(\(5.0))")) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.code, .timeout)
            XCTAssertEqual(pg.sqlState, "57014")
        }
        XCTAssertEqual(try conn.query("SELECT 1 AS n").scalar(Int.self), 1)
    }

    func testConnectFailureIsConnectionFailed() throws {
        _ = try TestDatabase.url()
        let config = PostgresConfiguration(url: "postgresql://nobody@127.0.0.1:1/none", connectTimeoutSeconds: 2)
        XCTAssertThrowsError(try PostgresConnection(configuration: config, logger: TestDatabase.logger)) { error in
            XCTAssertEqual((error as! PostgresError).code, .connectionFailed)
        }
    }
}
