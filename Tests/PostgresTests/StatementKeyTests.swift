import XCTest
@testable import Postgres

/// `StatementKey` hashes a sample of its SQL text but compares all of it: texts that differ only
/// between the samples are different statements, and equal texts are one statement whatever
/// storage holds them.
final class StatementKeyTests: XCTestCase {
    func testTextsDifferingOnlyBetweenTheSamplesAreDifferentStatements() {
        let head = String(repeating: "SELECT 1, ", count: 20), tail = String(repeating: " UNION ALL SELECT 2", count: 10)
        let a = StatementKey(sql: head + "$1::int" + tail, types: [23])
        let b = StatementKey(sql: head + "$1::oid" + tail, types: [23])
        XCTAssertEqual(a.hashValue, b.hashValue, "same length and samples: the hash cannot tell them apart")
        XCTAssertNotEqual(a, b)
        var cache: [StatementKey: String] = [a: "lr_1"]
        XCTAssertNil(cache[b])
        cache[b] = "lr_2"
        XCTAssertEqual(cache[a], "lr_1")
        XCTAssertEqual(cache[b], "lr_2")
    }

    func testEqualTextsInOtherStorageAreOneStatement() {
        let sql = String(repeating: "SELECT x FROM t WHERE y = $1 ", count: 50)
        let rebuilt = String(decoding: Array(sql.utf8), as: UTF8.self)  // the same bytes, another buffer
        let cache: [StatementKey: String] = [StatementKey(sql: sql, types: [25]): "lr_1"]
        XCTAssertEqual(cache[StatementKey(sql: rebuilt, types: [25])], "lr_1")
        XCTAssertNil(cache[StatementKey(sql: rebuilt, types: [23])], "other parameter types are another statement")
        XCTAssertNil(cache[StatementKey(sql: sql + " ", types: [25])])
        XCTAssertEqual(StatementKey(sql: "", types: []), StatementKey(sql: String(), types: []))
    }
}
