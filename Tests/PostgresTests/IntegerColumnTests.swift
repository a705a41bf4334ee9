import Postgres
import XCTest

/// `PostgresRow.int(at:)`, the string-free integer read of large metric results: the same values
/// as `decode(Int.self, …)` at every width and at the limits, and the same refusals; in text and
/// in binary results (`PostgresQuery.binaryResults`), with `index(at:in:)` and
/// `epochMicroseconds(at:)`, through `query` and through a pipeline.
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

    static let widths = """
        SELECT 0::int2, (-32768)::int2, 2147483647::int4, (-2147483648)::int4,
               9223372036854775807::int8, (-9223372036854775808)::int8, 4294967295::oid, 1765065600::int8
        """

    func testBinaryResultsReadAsTheirText() throws {
        let text = try XCTUnwrap(conn.query(PostgresQuery(unsafeRaw: Self.widths)).first)
        var binary = PostgresQuery(unsafeRaw: Self.widths)
        binary.binaryResults = true
        for row in [try XCTUnwrap(conn.query(binary).first), try XCTUnwrap(conn.pipeline([binary, binary])[1].first)] {
            for position in 0..<8 {
                XCTAssertEqual(try row.int(at: position), try text.decode(Int.self, at: position), "column \(position)")
            }
            // `decode` reads text only: a binary column is refused, not misread.
            XCTAssertThrowsError(try row.decode(Int.self, at: 2)) { XCTAssertEqual(($0 as? PostgresError)?.code, .decoding) }
        }
        let t = Date(timeIntervalSince1970: 1_765_065_600.123456)
        var times: PostgresQuery = """
            SELECT \(t)::timestamptz, timestamptz '2000-01-01 00:00:00Z', timestamptz '1969-12-31 23:59:59.5Z', 'decision'::text,
                   NULL::timestamptz, 7::int4, 'other'::text, NULL::text
            """
        times.binaryResults = true
        let row = try XCTUnwrap(conn.query(times).first)
        XCTAssertEqual(try row.epochMicroseconds(at: 0), 1_765_065_600_123_456)
        XCTAssertEqual(try row.epochMicroseconds(at: 1), 946_684_800_000_000)
        XCTAssertEqual(try row.epochMicroseconds(at: 2), -500_000)
        let names = [Array("awareness".utf8), Array("decision".utf8)]
        XCTAssertEqual(try row.index(at: 3, in: names), 1)
        XCTAssertNil(try row.index(at: 6, in: names))
        XCTAssertNil(try row.index(at: 7, in: names))
        for position in [3, 4, 5] {
            XCTAssertThrowsError(try row.epochMicroseconds(at: position)) { XCTAssertEqual(($0 as? PostgresError)?.code, .decoding) }
        }
        // A text result is not read as binary microseconds.
        let textTime = try XCTUnwrap(conn.query("SELECT now()").first)
        XCTAssertThrowsError(try textTime.epochMicroseconds(at: 0))
    }
}
