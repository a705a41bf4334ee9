import Foundation
import Postgres
import XCTest

/// Every supported type goes to the server and back unchanged; NULLs, unicode, big bytea,
/// arrays and jsonb included; decoding errors name the column.
final class CodingTests: XCTestCase {
    private var conn: PostgresConnection!

    override func setUpWithError() throws { conn = try TestDatabase.connect() }
    override func tearDown() { conn = nil }

    private func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, cast: String) throws -> T {
        try conn.query("SELECT \(value)::\(unsafeRaw: cast) AS v").first!.decode(T.self, "v")
    }

    func testScalarsRoundTrip() throws {
        XCTAssertEqual(try roundTrip("héllo wörld ✓ 🚀 \"'; --", cast: "text"), "héllo wörld ✓ 🚀 \"'; --")
        XCTAssertEqual(try roundTrip("", cast: "text"), "")
        XCTAssertEqual(try roundTrip(Int.max, cast: "int8"), Int.max)
        XCTAssertEqual(try roundTrip(Int.min, cast: "int8"), Int.min)
        XCTAssertEqual(try roundTrip(Int64(-42), cast: "int8"), -42)
        XCTAssertEqual(try roundTrip(Int32(7), cast: "int4"), 7)
        XCTAssertEqual(try roundTrip(0.1 + 0.2, cast: "float8"), 0.1 + 0.2)
        XCTAssertEqual(try roundTrip(-1.5e-300, cast: "float8"), -1.5e-300)
        XCTAssertEqual(try roundTrip(Double.infinity, cast: "float8"), .infinity)
        XCTAssertTrue(try roundTrip(Double.nan, cast: "float8").isNaN)
        XCTAssertEqual(try roundTrip(true, cast: "bool"), true)
        XCTAssertEqual(try roundTrip(false, cast: "bool"), false)
        let id = UUID()
        XCTAssertEqual(try roundTrip(id, cast: "uuid"), id)
    }

    func testDatesRoundTripToTheMicrosecond() throws {
        for seconds in [0.0, 1_764_000_000.123456, -86_400.5, 253_402_300_799.999999, -2_208_988_800] {
            let date = Date(timeIntervalSince1970: seconds)
            let back = try roundTrip(date, cast: "timestamptz")
            XCTAssertEqual(back.timeIntervalSince1970, seconds, accuracy: 1e-6, "\(seconds)")
        }
        // The server's own rendering agrees with ours (UTC, ISO).
        let text = try conn.query(
            "SELECT \(Date(timeIntervalSince1970: 1_764_000_000.5))::text AS t").first!.decode(String.self, "t")
        XCTAssertEqual(text, "2025-11-24 16:00:00.5+00")
        let fromServer = try conn.query(
            "SELECT '2026-11-24 10:00:00+05:30'::timestamptz AS t, '2026-11-24'::date AS d").first!
        // 10:00 at +05:30 is 04:30 UTC.
        XCTAssertEqual(try fromServer.decode(Date.self, "t").timeIntervalSince1970, 1_795_478_400 + 4.5 * 3600, accuracy: 0)
        XCTAssertEqual(try fromServer.decode(Date.self, "d").timeIntervalSince1970, 1_795_478_400, accuracy: 0)
    }

    func testByteaRoundTripsLargeAndBinary() throws {
        var bytes = Data((0..<256).map { UInt8($0) })
        XCTAssertEqual(try roundTrip(bytes, cast: "bytea"), bytes)
        bytes = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let row = try conn.query("SELECT \(bytes) AS b, length(\(bytes)) AS n").first!
        XCTAssertEqual(try row.decode(Int.self, "n"), 4 << 20)
        XCTAssertEqual(try row.decode(Data.self, "b"), bytes)
        XCTAssertEqual(try roundTrip(Data(), cast: "bytea"), Data())
    }

    func testNullsDecodeAsNilAndNonOptionalNullNamesTheColumn() throws {
        let none: String? = nil
        let row = try conn.query("SELECT \(none) AS missing, \(Int?.some(3)) AS present").first!
        XCTAssertNil(try row.decode(String?.self, "missing"))
        XCTAssertEqual(try row.decode(Int?.self, "present"), 3)
        XCTAssertTrue(row.isNull("missing"))
        XCTAssertThrowsError(try row.decode(String.self, "missing")) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.code, .decoding)
            XCTAssertEqual(pg.column, "missing")
            XCTAssertTrue(pg.description.contains("\"missing\""), pg.description)
            XCTAssertTrue(pg.description.contains("unexpected NULL"), pg.description)
        }
    }

    func testTypeMismatchNamesTheColumn() throws {
        let row = try conn.query("SELECT 'abc'::text AS label, 5::int4 AS n").first!
        XCTAssertThrowsError(try row.decode(Int.self, "label")) { error in
            XCTAssertEqual((error as! PostgresError).column, "label")
        }
        XCTAssertThrowsError(try row.decode(Bool.self, at: 1)) { error in
            XCTAssertEqual((error as! PostgresError).column, "n")
            XCTAssertTrue("\(error)".contains("int4"), "\(error)")
        }
        XCTAssertThrowsError(try row.decode(Int.self, "nope")) { error in
            XCTAssertEqual((error as! PostgresError).column, "nope")
        }
        XCTAssertEqual(try row.decode(String.self, "n"), "5")
    }

    func testArraysRoundTrip() throws {
        let strings = ["a", "b c", "quote \" and \\ backslash", "", "NULL", "{x,y}", "ünï"]
        XCTAssertEqual(try roundTrip(strings, cast: "text[]"), strings)
        XCTAssertEqual(try roundTrip([Int](), cast: "int8[]"), [])
        XCTAssertEqual(try roundTrip([1, -2, Int.max], cast: "int8[]"), [1, -2, Int.max])
        XCTAssertEqual(try roundTrip([1.5, -0.25], cast: "float8[]"), [1.5, -0.25])
        XCTAssertEqual(try roundTrip([true, false], cast: "bool[]"), [true, false])
        let ids = [UUID(), UUID()]
        XCTAssertEqual(try roundTrip(ids, cast: "uuid[]"), ids)
        let dates = [Date(timeIntervalSince1970: 1_000_000_000), Date(timeIntervalSince1970: 2_000_000_000.25)]
        XCTAssertEqual(try roundTrip(dates, cast: "timestamptz[]"), dates)
        let blobs = [Data([0, 1, 255]), Data()]
        XCTAssertEqual(try roundTrip(blobs, cast: "bytea[]"), blobs)
        let withNulls: [String?] = ["x", nil, "NULL"]
        XCTAssertEqual(try roundTrip(withNulls, cast: "text[]"), withNulls)
        let count = try conn.query("SELECT cardinality(\(withNulls)) AS n, \(withNulls)[2] IS NULL AS isnull").first!
        XCTAssertEqual(try count.decode(Int.self, "n"), 3)
        XCTAssertEqual(try count.decode(Bool.self, "isnull"), true)
        // unnest is how the ingest path writes sets of rows.
        let rows = try conn.query("SELECT x FROM unnest(\([3, 1, 2])) AS x ORDER BY x")
        XCTAssertEqual(try rows.map { try $0.decode(Int.self, "x") }, [1, 2, 3])
    }

    func testJSONBFromEncodableAndRawBytes() throws {
        struct Traits: Codable, Equatable {
            var plan: String
            var seats: Int
            var tags: [String]
        }
        let traits = Traits(plan: "pro ✓", seats: 12, tags: ["b2b", "eu"])
        let row = try conn.query(
            "SELECT \(try PostgresJSON(encoding: traits)) AS j, \(try PostgresJSON(encoding: traits))->>'plan' AS plan"
        ).first!
        XCTAssertEqual(try row.decode(PostgresJSON.self, "j").decode(Traits.self), traits)
        XCTAssertEqual(try row.decode(String.self, "plan"), "pro ✓")
        let raw = PostgresJSON(rawBytes: Array(#"{"b": [1, 2], "a": null}"#.utf8))
        let normalised = try conn.query("SELECT \(raw)::text AS t").first!.decode(String.self, "t")
        XCTAssertEqual(normalised, #"{"a": null, "b": [1, 2]}"#)
        XCTAssertThrowsError(try conn.query("SELECT \(PostgresJSON(rawBytes: Array("{nope".utf8)))")) { error in
            XCTAssertEqual((error as! PostgresError).sqlState, "22P02")
        }
    }

    func testInjectionThroughParametersIsInert() throws {
        try conn.executeScript(unsafeSQL: "CREATE TEMP TABLE victims (name text)")
        try conn.query("INSERT INTO victims VALUES ('alice')")
        let attacks = [
            "'; DROP TABLE victims; --", "alice' OR '1'='1", "\\'; DELETE FROM victims; --",
            "$1", "alice\"; --",
        ]
        for attack in attacks {
            let rows = try conn.query("SELECT name FROM victims WHERE name = \(attack)")
            XCTAssertEqual(rows.count, 0, attack)
            try conn.query("INSERT INTO victims VALUES (\(attack))")
        }
        let stored = try conn.query("SELECT name FROM victims ORDER BY name").map { try $0.decode(String.self, "name") }
        XCTAssertEqual(stored, (["alice"] + attacks).sorted())
    }

    func testPreparedStatementsAreCachedPerSQLText() throws {
        for i in 0..<5 { XCTAssertEqual(try conn.query("SELECT \(i) + 1 AS n").scalar(Int.self), i + 1) }
        XCTAssertEqual(conn.preparedStatementCount, 1)
        let serverSide = try conn.query("SELECT count(*) FROM pg_prepared_statements").scalar(Int.self)
        XCTAssertEqual(serverSide, 2)  // ours, plus the count query itself
    }

    func testCachedStatementSurvivesATableChange() throws {
        try conn.executeScript(unsafeSQL: "CREATE TEMP TABLE shifting (a int); INSERT INTO shifting VALUES (1)")
        XCTAssertEqual(try conn.query("SELECT * FROM shifting").first!.decode(Int.self, "a"), 1)
        try conn.executeScript(unsafeSQL: "ALTER TABLE shifting ADD COLUMN b text DEFAULT 'new'")
        let row = try conn.query("SELECT * FROM shifting").first!
        XCTAssertEqual(try row.decode(String.self, "b"), "new")
        XCTAssertEqual(try row.decode(Int.self, "a"), 1)
    }
}
