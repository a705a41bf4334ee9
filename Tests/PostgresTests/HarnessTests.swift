import CLibPQ
import XCTest

/// Proves the test harness: the cluster that scripts/test.sh starts is reachable through libpq.
final class HarnessTests: XCTestCase {
    func testSelectOneThroughLibpq() throws {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            throw XCTSkip("DATABASE_URL not set: run through scripts/test.sh")
        }
        let conn = PQconnectdb(url)
        defer { PQfinish(conn) }
        XCTAssertEqual(PQstatus(conn), CONNECTION_OK, String(cString: PQerrorMessage(conn)))
        let result = PQexec(conn, "SELECT 1")
        defer { PQclear(result) }
        XCTAssertEqual(PQresultStatus(result), PGRES_TUPLES_OK)
        XCTAssertEqual(String(cString: PQgetvalue(result, 0, 0)), "1")
    }
}
