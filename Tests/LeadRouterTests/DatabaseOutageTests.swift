import Foundation
import Postgres
import XCTest
@testable import LeadRouter

/// The database going away: ingest answers 503 with Retry-After and writes nothing half; once
/// the database is back the same process serves again, and every 2xx'd event is present.
final class DatabaseOutageTests: XCTestCase {
    func testUnreachableDatabaseGives503AndServiceRecoversWithoutRestart() throws {
        let service = try TestService(test: self) { $0.maxDatabaseConnections = 4 }
        let client = try service.client()
        var accepted = 0
        func send(_ i: Int) throws -> Int {
            let r = try client.json("POST", "/v1/track", key: service.ingestKey, [
                "userId": "u-\(i % 3)", "event": "Product Viewed", "messageId": "m-\(i)", "timestamp": iso(service.clock.now)])
            if r.status == 200 { accepted += 1 } else {
                XCTAssertEqual(r.status, 503, r.text)
                XCTAssertEqual(r.header("Retry-After"), "1")
                XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
            }
            return r.status
        }
        for i in 0..<10 { XCTAssertEqual(try send(i), 200) }

        // Outage: no new connections, existing ones killed.
        let name = String(URLComponents(string: service.url)!.path.dropFirst())
        let admin = try PostgresConnection(url: TestDatabases.baseURL(), logger: TestDatabases.logger)
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name)")
        var refused = 0
        for i in 10..<20 where try send(i) == 503 { refused += 1 }
        XCTAssertEqual(refused, 10)
        let ready = try client.json("GET", "/readyz", key: nil)
        XCTAssertEqual(ready.status, 503)

        // Back: the same process serves again; the refused messages are re-sent by the client.
        try admin.executeScript(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        for i in 10..<20 { XCTAssertEqual(try send(i), 200) }
        XCTAssertEqual(accepted, 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 20)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), 20)
        XCTAssertEqual(try client.json("GET", "/readyz", key: nil).status, 200)
    }
}
