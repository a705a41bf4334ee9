import Postgres
import XCTest

/// The raw reads a backtest's page of a million rows uses: `json(at:)` gives the bytes
/// `decode(PostgresJSON.self, …)` gives (and the same refusals), and `hasSameValue(at:asRow:)`
/// says whether two rows hold the same bytes in a column.
final class RawColumnTests: XCTestCase {
    private var conn: PostgresConnection!

    override func setUpWithError() throws { conn = try TestDatabase.connect() }
    override func tearDown() { conn = nil }

    func testJSONBytesAreThoseOfDecode() throws {
        let rows = try conn.query("""
            SELECT '{"name": "Product Viewed", "properties": {"price": 12.5, "title": "Grüße ✓"}}'::jsonb,
                   '[1, "two", null]'::json, '{}'::jsonb
            """)
        let row = try XCTUnwrap(rows.first)
        for position in 0..<3 {
            XCTAssertEqual(try row.json(at: position), try row.decode(PostgresJSON.self, at: position), "column \(position)")
        }
        XCTAssertEqual(String(decoding: try row.json(at: 2).bytes, as: UTF8.self), "{}")
        let refused = try XCTUnwrap(conn.query("SELECT NULL::jsonb AS j, '{}'::text AS t").first)
        for position in 0..<2 {
            XCTAssertThrowsError(try refused.json(at: position)) { error in
                XCTAssertEqual((error as? PostgresError)?.code, .decoding)
            }
        }
        XCTAssertThrowsError(try refused.json(at: 2))
    }

    func testSameValueComparesTheColumnsBytes() throws {
        let rows = try conn.query("""
            SELECT * FROM (VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 1), ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 2),
                                  ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'::uuid, 2), (NULL, 22), (NULL, 22)) v(id, n)
            """)
        XCTAssertTrue(rows[1].hasSameValue(at: 0, asRow: 0))
        XCTAssertFalse(rows[2].hasSameValue(at: 0, asRow: 1))
        XCTAssertTrue(rows[2].hasSameValue(at: 1, asRow: 1))
        XCTAssertFalse(rows[3].hasSameValue(at: 0, asRow: 2), "NULL is not a value")
        XCTAssertTrue(rows[4].hasSameValue(at: 0, asRow: 3), "NULL and NULL")
        XCTAssertFalse(rows[3].hasSameValue(at: 1, asRow: 2), "2 and 22 differ in length")
        XCTAssertFalse(rows[0].hasSameValue(at: 2, asRow: 1), "no such column")
        XCTAssertFalse(rows[0].hasSameValue(at: 0, asRow: 5), "no such row")
        XCTAssertTrue(rows[0].hasSameValue(at: 0, asRow: 0))
    }
}
