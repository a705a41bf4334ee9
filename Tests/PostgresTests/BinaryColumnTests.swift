import Foundation
import Postgres
import XCTest

/// `PostgresRow.uuid(at:)`, `json(at:)` and `isNull(at:)` on results asked for in binary
/// (`PostgresQuery.binaryResults`, a backtest's page query): the values the same columns give
/// as text, and the same refusals.
final class BinaryColumnTests: XCTestCase {
    private var conn: PostgresConnection!

    override func setUpWithError() throws { conn = try TestDatabase.connect() }
    override func tearDown() { conn = nil }

    static let sql = """
        SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{"b": [1, "é😀"], "a": {"c": null}}'::jsonb,
               '{"b" : 1,"b":2}'::json, NULL::uuid, NULL::jsonb, 'x'::text, '00000000-0000-0000-0000-000000000000'::uuid
        """

    func testBinaryColumnsReadAsTheirText() throws {
        let text = try XCTUnwrap(conn.query(PostgresQuery(unsafeRaw: Self.sql)).first)
        var query = PostgresQuery(unsafeRaw: Self.sql)
        query.binaryResults = true
        let binary = try XCTUnwrap(conn.query(query).first)
        XCTAssertEqual(try binary.uuid(at: 0), try text.decode(UUID.self, at: 0))
        XCTAssertEqual(try binary.uuid(at: 6), UUID(uuidString: "00000000-0000-0000-0000-000000000000"))
        XCTAssertEqual(try binary.json(at: 1), try text.json(at: 1), "jsonb: its text behind the version byte")
        XCTAssertEqual(try binary.json(at: 2), try text.json(at: 2), "json: its text as written")
        XCTAssertEqual(String(decoding: try binary.json(at: 1).bytes, as: UTF8.self), #"{"a": {"c": null}, "b": [1, "é😀"]}"#)
        XCTAssertEqual((0..<7).map { binary.isNull(at: $0) }, [false, false, false, true, true, false, false])
        XCTAssertFalse(binary.isNull(at: 7), "out of range")
        for position in [1, 3, 5, 7] {
            XCTAssertThrowsError(try binary.uuid(at: position)) { XCTAssertEqual(($0 as? PostgresError)?.code, .decoding) }
        }
        XCTAssertThrowsError(try binary.json(at: 4)) { XCTAssertEqual(($0 as? PostgresError)?.code, .decoding) }
        // A text result is not read as binary bytes.
        XCTAssertThrowsError(try text.uuid(at: 0)) { XCTAssertEqual(($0 as? PostgresError)?.code, .decoding) }
    }
}
