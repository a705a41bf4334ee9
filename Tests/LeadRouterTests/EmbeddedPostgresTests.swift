import Foundation
import Logging
import XCTest
@testable import Cryptography
@testable import Essentials
@testable import HTTPAPI
@testable import Ingest
@testable import JSONCoding
@testable import LeadRouterService
@testable import LeadStore
@testable import OutboundHTTP
@testable import Profiles
@testable import RulesTools
@testable import SalesQueues
@testable import Webhooks

/// `leadrouter dev` depends on this: a private cluster is created, started, reused, stopped.
final class EmbeddedPostgresTests: XCTestCase {
    func testCreatesStartsRestartsAndStops() throws {
        guard EmbeddedPostgres.findBinDirectory() != nil else { throw XCTSkip("no PostgreSQL server installed") }
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lr-embedded-\(UUID().uuidString)")
        chmod(NSTemporaryDirectory(), 0o1777)
        defer { try? FileManager.default.removeItem(at: dir) }

        let pg = try EmbeddedPostgres(dataDirectory: dir, logger: Logger(label: "test"))
        try pg.start()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("PG_VERSION").path))
        XCTAssertGreaterThan(pg.port, 0)
        XCTAssertEqual(try psql(pg, "SELECT current_database()"), "leadrouter")
        XCTAssertEqual(try psql(pg, "CREATE TABLE kept(x int); INSERT INTO kept VALUES (42); SELECT x FROM kept"), "42")
        pg.stop()
        XCTAssertThrowsError(try psql(pg, "SELECT 1"), "the cluster must be down after stop()")

        // A second start reuses the cluster and its data.
        let again = try EmbeddedPostgres(dataDirectory: dir, logger: Logger(label: "test"))
        try again.start()
        defer { again.stop() }
        XCTAssertEqual(try psql(again, "SELECT x FROM kept"), "42")
    }

    private func psql(_ pg: EmbeddedPostgres, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = EmbeddedPostgres.findBinDirectory()!.appendingPathComponent("psql")
        process.arguments = ["-X", "-q", "-t", "-A", "-d", pg.url, "-c", sql]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EmbeddedPostgres.Failure(description: "psql exit \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
