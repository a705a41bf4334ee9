import Foundation
import Logging
import XCTest
@testable import Cryptography
@testable import HTTPAPI
@testable import JSONCoding
@testable import LeadRouterService

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

    /// An existing directory of another user is refused, naming its owner, and left as it was
    /// (this used to `chown -R postgres:postgres` whatever path --data-dir named).
    func testRefusesAnExistingDirectoryOfAnotherUserAndChangesNothing() throws {
        guard EmbeddedPostgres.findBinDirectory() != nil else { throw XCTSkip("no PostgreSQL server installed") }
        guard getuid() == 0 else { throw XCTSkip("needs root to make a directory of another user") }
        chmod(NSTemporaryDirectory(), 0o1777)
        for (user, uid) in [("nobody", getpwnam("nobody")!.pointee.pw_uid), ("root", uid_t(0))] {
            let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lr-foreign-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
            let file = dir.appendingPathComponent("precious.txt")
            try "keep me".write(to: file, atomically: false, encoding: .utf8)
            chown(dir.path, uid, uid_t(getpwuid(uid)!.pointee.pw_gid))
            chown(file.path, uid, uid_t(getpwuid(uid)!.pointee.pw_gid))
            chmod(dir.path, 0o755)

            let pg = try EmbeddedPostgres(dataDirectory: dir, logger: Logger(label: "test"))
            XCTAssertThrowsError(try pg.start()) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("belongs to \(user) (uid \(uid))"), text)
                XCTAssertTrue(text.contains("--data-dir"), text)
            }
            var info = stat()
            XCTAssertEqual(stat(dir.path, &info), 0)
            XCTAssertEqual(info.st_uid, uid, "the directory keeps its owner")
            XCTAssertEqual(info.st_mode & 0o777, 0o755)
            XCTAssertEqual(stat(file.path, &info), 0)
            XCTAssertEqual(info.st_uid, uid, "its files keep their owner")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["precious.txt"], "nothing added")
        }

        // An empty directory of our own (mkdir before the first run) is fine: it becomes the cluster.
        let empty = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lr-empty-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: empty) }
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        let pg = try EmbeddedPostgres(dataDirectory: empty, logger: Logger(label: "test"))
        try pg.start()
        defer { pg.stop() }
        XCTAssertEqual(try psql(pg, "SELECT 1"), "1")
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
