import Foundation
import Postgres
import XCTest

/// `PostgresConfiguration.transactionStatementTimeout`: every transaction's statements are
/// bounded (SET LOCAL with the BEGIN, in the same round trip), statements outside transactions
/// and later transactions on a connection without it are not.
final class TransactionStatementTimeoutTests: FreshDatabaseTestCase {
    private func connect(timeout: Double?) throws -> PostgresConnection {
        var configuration = PostgresConfiguration(url: url)
        configuration.transactionStatementTimeout = timeout
        return try PostgresConnection(configuration: configuration, logger: TestDatabase.logger)
    }

    func testAStatementPastTheTimeoutFailsWith57014AndRollsBack() throws {
        let conn = try connect(timeout: 0.2)
        try conn.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY)")
        let started = Date()
        XCTAssertThrowsError(try conn.withTransaction { c in
            try c.query("INSERT INTO t VALUES (1)")
            try c.query("SELECT pg_sleep(5)")
        }) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.sqlState, .queryCanceled, "\(error)")
            XCTAssertEqual(pg?.sqlState?.rawValue, "57014")
            XCTAssertTrue(pg?.isUnavailable ?? false, "the API answers 503 for it")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM t").scalar(Int.self), 0, "rolled back")
        // Pipelined: the statement added to the first round trip is bounded too.
        XCTAssertThrowsError(try conn.withPipelinedTransaction { tx in
            tx.add("SELECT pg_sleep(5)")
            try tx.send()
        }) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, .queryCanceled, "\($0)") }
        // Outside a transaction the server's setting holds: no timeout.
        XCTAssertEqual(try conn.query("SHOW statement_timeout").scalar(String.self), "0")
        try conn.query("SELECT pg_sleep(0.4)")
    }

    func testTheTimeoutRidesWithBeginWithoutAnExtraRoundTrip() throws {
        let bounded = try connect(timeout: 1.5)
        let plain = try connect(timeout: nil)
        for conn in [bounded, plain] {
            try conn.executeScript(unsafeSQL: "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)")
        }
        func run(_ conn: PostgresConnection, _ id: Int) throws -> (setting: String, roundTrips: Int) {
            let before = conn.roundTrips
            let setting = try conn.withPipelinedTransaction { tx -> String in
                let setting = tx.add("SHOW statement_timeout") { try $0.scalar(String.self) }
                try tx.send()
                tx.add("INSERT INTO t VALUES (\(id))")
                return try setting.get()
            }
            // The lone-BEGIN path (withTransaction sends BEGIN by itself first).
            let inner = try conn.withTransaction { try $0.query("SHOW statement_timeout").scalar(String.self) }
            XCTAssertEqual(inner, setting)
            return (setting, conn.roundTrips - before)
        }
        let (boundedSetting, boundedTrips) = try run(bounded, 1)
        let (plainSetting, plainTrips) = try run(plain, 2)
        XCTAssertEqual(boundedSetting, "1500ms")
        XCTAssertEqual(plainSetting, "0")
        XCTAssertEqual(boundedTrips, plainTrips, "SET LOCAL costs no round trip")
        XCTAssertEqual(try bounded.query("SHOW statement_timeout").scalar(String.self), "0", "LOCAL: gone with the transaction")
    }
}
