import Postgres
import XCTest

/// `PostgresRow.int(at:)`, the string-free integer read of large metric results: the same values
/// as `decode(Int.self, …)` at every width and at the limits, and the same refusals.
final class IntegerColumnTests: XCTestCase {
    private var conn: PostgresConnection!

    override func setUpWithError() throws { conn = try TestDatabase.connect() }
    override func tearDown() { conn = nil }

    func testReadsEveryIntegerWidthAsDecodeDoes() throws {
        let row = try XCTUnwrap(conn.query("""
            SELECT 0::int2, (-32768)::int2, 2147483647::int4, (-2147483648)::int4,
                   9223372036854775807::int8, (-9223372036854775808)::int8, 42::oid, 1765065600::int8
            """).first)
        for position in 0..<8 {
            XCTAssertEqual(try row.int(at: position), try row.decode(Int.self, at: position), "column \(position)")
        }
        XCTAssertEqual(try row.int(at: 5), Int.min)
        XCTAssertEqual(try row.int(at: 7), 1_765_065_600)
    }

    func testRefusesNullOtherTypesAndMissingColumns() throws {
        let row = try XCTUnwrap(conn.query("SELECT NULL::int4 AS n, '12'::text AS t, 1.5::float8 AS f").first)
        for position in 0..<3 {
            XCTAssertThrowsError(try row.int(at: position)) { error in
                XCTAssertEqual((error as? PostgresError)?.code, .decoding)
                XCTAssertNotNil((error as? PostgresError)?.column)
            }
        }
        XCTAssertThrowsError(try row.int(at: 3))
    }
}
