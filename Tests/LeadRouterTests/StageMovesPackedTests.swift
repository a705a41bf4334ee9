import XCTest
@testable import LeadStore
import Postgres

/// The packed hours of migration 0086: what `leadrouter_stage_move_packed` writes in PostgreSQL is
/// what `StageMovesPacked` reads back through `PostgresRow.withBytes`, names as positions (nil for
/// no stage and for a stage not asked for), counts beyond 16 bits included; bytes cut short are an
/// error, not a wrong count.
final class StageMovesPackedTests: XCTestCase {
    func testReadsWhatTheMigrationsFunctionPacks() throws {
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let conn = try CitusSchemaTests.migrated(databaseURL)
        var query: PostgresQuery = """
            SELECT leadrouter_stage_move_packed('', 'awareness', 3, 1)
                || leadrouter_stage_move_packed('awareness', 'decision', 70000, 2)
                || leadrouter_stage_move_packed('decision', 'gone', 5, 0) AS moves
            """
        query.binaryResults = true
        let rows = try conn.query(query)
        var pairs: [String] = []
        let names = ["awareness", "decision"].map { Array($0.utf8) }
        try rows[0].withBytes(at: 0) { bytes in
            XCTAssertEqual(bytes.count, 3 * 10 + 9 + 9 + 8 + 8 + 4)
            try StageMovesPacked.forEach(in: bytes, names: names) { from, to, moves, reached in
                pairs.append("\(from.map(String.init) ?? "-") \(to.map(String.init) ?? "-") \(moves) \(reached)")
            }
            // Every cut of the bytes short of a whole pair is refused.
            for cut in [1, 4, 10, 13] {
                XCTAssertThrowsError(try StageMovesPacked.forEach(in: UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - cut)]),
                                                                  names: names) { _, _, _, _ in }, "cut \(cut)")
            }
        }
        XCTAssertEqual(pairs, ["- 0 3 1", "0 1 70000 2", "1 - 5 0"])
        XCTAssertThrowsError(try conn.query("SELECT '\\x00'::bytea AS moves")[0].withBytes(at: 0) { _ in }, "a text result is not read as bytes")
        var int4: PostgresQuery = "SELECT 1::int4 AS n"
        int4.binaryResults = true
        XCTAssertThrowsError(try conn.query(int4)[0].withBytes(at: 0) { _ in }, "an int4 is not bytes")
    }
}
