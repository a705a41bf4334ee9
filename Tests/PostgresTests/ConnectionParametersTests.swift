import XCTest
@testable import Postgres

/// What the module adds to a URL for libpq: keepalives and a TCP user timeout unless the URL
/// sets its own (docs/scale-out.md: a vanished primary must not hold a thread for ever).
final class ConnectionParametersTests: XCTestCase {
    func testKeepalivesAndUserTimeoutAreAddedUnlessTheURLSetsThem() {
        let plain = Dictionary(PostgresConfiguration(url: "postgresql://a:1,b:2/db?target_session_attrs=read-write")
            .connectionParameters, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(plain["keepalives"], "1")
        XCTAssertEqual(plain["keepalives_idle"], "5")
        XCTAssertEqual(plain["tcp_user_timeout"], "10000")
        XCTAssertEqual(plain["dbname"], "postgresql://a:1,b:2/db?target_session_attrs=read-write", "the URL itself untouched")

        let own = Dictionary(PostgresConfiguration(url: "postgresql://a/db?keepalives_idle=30&tcp_user_timeout=0")
            .connectionParameters, uniquingKeysWith: { first, _ in first })
        XCTAssertNil(own["keepalives"])
        XCTAssertNil(own["tcp_user_timeout"])
    }

    func testAConnectionWithThemWorks() throws {
        let connection = try PostgresConnection(configuration: PostgresConfiguration(url: try TestDatabase.url()), logger: TestDatabase.logger)
        XCTAssertEqual(try connection.query("SELECT 1").scalar(Int.self), 1)
    }
}
