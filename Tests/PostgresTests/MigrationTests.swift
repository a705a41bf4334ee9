import Foundation
import Postgres
import XCTest

/// The migrations runner against fresh databases, and `leadrouter migrate` run as processes.
final class MigrationTests: FreshDatabaseTestCase {
    /// The repository's own migrations directory.
    static let repoMigrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations")

    private func migrator(_ directory: URL = repoMigrations) -> Migrator {
        Migrator(configuration: PostgresConfiguration(url: url), directory: directory, logger: TestDatabase.logger)
    }

    private func tempMigrations(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testFreshApplyCreatesTheSchemaAndRecordsTheChecksum() throws {
        // Later issues add migrations (0002_…): every file in the directory is pending, then applied.
        let files = try MigrationFile.load(directory: Self.repoMigrations)
        XCTAssertEqual(files.first?.name, "0001_schema_v1")
        let before = try migrator().status()
        XCTAssertEqual(before.map(\.state), Array(repeating: .pending, count: files.count))
        let applied = try migrator().migrate()
        XCTAssertEqual(applied.map(\.name), files.map(\.name))
        let conn = try TestDatabase.connect(url)
        for table in ["leads", "identities", "events", "processed_messages", "memberships", "membership_history",
                      "decisions", "queue_items", "owners", "teams", "team_members", "accounts",
                      "round_robin_state", "outbox", "deliveries", "subscriptions", "rulesets", "api_keys"] {
            XCTAssertTrue(try conn.query("SELECT to_regclass(\(table)) IS NOT NULL AS ok").scalar(Bool.self), table)
        }
        let recorded = try conn.query("SELECT checksum FROM schema_migrations WHERE version = 1").scalar(String.self)
        XCTAssertEqual(recorded, try Self.sha256sum(Self.repoMigrations.appendingPathComponent("0001_schema_v1.sql")))
        let after = try migrator().status()
        XCTAssertEqual(after.map(\.state), Array(repeating: .applied, count: files.count))
        XCTAssertNotNil(after[0].appliedAt)
    }

    func testRerunIsANoOp() throws {
        try migrator().migrate()
        let conn = try TestDatabase.connect(url)
        let firstTime = try conn.query("SELECT applied_at FROM schema_migrations WHERE version = 1").scalar(Date.self)
        XCTAssertEqual(try migrator().migrate(), [])
        XCTAssertEqual(try conn.query("SELECT count(*) FROM schema_migrations").scalar(Int.self),
                       try MigrationFile.load(directory: Self.repoMigrations).count)
        XCTAssertEqual(try conn.query("SELECT applied_at FROM schema_migrations WHERE version = 1").scalar(Date.self), firstTime)
    }

    func testTamperedFileIsRefusedNamingIt() throws {
        let dir = try tempMigrations([
            "0001_first.sql": "CREATE TABLE a (id int);",
            "0002_second.sql": "CREATE TABLE b (id int);",
        ])
        XCTAssertEqual(try migrator(dir).migrate().map(\.version), [1, 2])
        try "CREATE TABLE b (id bigint);".write(to: dir.appendingPathComponent("0002_second.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE c (id int);".write(to: dir.appendingPathComponent("0003_third.sql"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try migrator(dir).migrate()) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.code, .migration)
            XCTAssertTrue(pg.message.contains("0002_second.sql"), pg.message)
            XCTAssertTrue(pg.message.contains("changed"), pg.message)
        }
        XCTAssertEqual(try migrator(dir).status().map(\.state), [.applied, .changed, .pending])
        let conn = try TestDatabase.connect(url)
        XCTAssertFalse(try conn.query("SELECT to_regclass('c') IS NOT NULL AS ok").scalar(Bool.self))
    }

    func testFailingMigrationRollsBackAndNamesTheFile() throws {
        let dir = try tempMigrations([
            "0001_ok.sql": "CREATE TABLE a (id int);",
            "0002_broken.sql": "CREATE TABLE b (id int); INSERT INTO nowhere VALUES (1);",
        ])
        XCTAssertThrowsError(try migrator(dir).migrate()) { error in
            let pg = error as! PostgresError
            XCTAssertEqual(pg.code, .migration)
            XCTAssertEqual(pg.sqlState, "42P01")
            XCTAssertTrue(pg.message.contains("0002_broken.sql"), pg.message)
        }
        let conn = try TestDatabase.connect(url)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM schema_migrations").scalar(Int.self), 1)
        XCTAssertFalse(try conn.query("SELECT to_regclass('b') IS NOT NULL AS ok").scalar(Bool.self))
    }

    func testBadlyNamedFileIsAnError() throws {
        let dir = try tempMigrations(["1_first.sql": "SELECT 1;"])
        XCTAssertThrowsError(try migrator(dir).migrate()) { error in
            XCTAssertTrue((error as! PostgresError).message.contains("1_first.sql"))
        }
    }

    func testFourConcurrentMigrateProcessesApplyEachMigrationOnce() throws {
        let binary = try Self.leadrouterBinary()
        let dir = try tempMigrations([
            "0001_first.sql": "CREATE TABLE a (id int); SELECT pg_sleep(0.2);",
            "0002_second.sql": "CREATE TABLE b (id int); INSERT INTO a VALUES (1);",
            "0003_third.sql": "CREATE TABLE c (id int); INSERT INTO a VALUES (2);",
        ])
        var processes: [(Process, Pipe)] = []
        for _ in 0..<4 {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["migrate", "--database-url", url, "--dir", dir.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            processes.append((process, pipe))
        }
        var output = ""
        for (process, pipe) in processes {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            output += text
            XCTAssertEqual(process.terminationStatus, 0, text)
        }
        let appliedLines = output.split(separator: "\n").filter { $0.hasPrefix("applied ") }.sorted()
        XCTAssertEqual(appliedLines, ["applied 0001_first.sql", "applied 0002_second.sql", "applied 0003_third.sql"], output)
        let conn = try TestDatabase.connect(url)
        XCTAssertEqual(try conn.query("SELECT array_agg(version ORDER BY version) FROM schema_migrations").scalar([Int].self), [1, 2, 3])
        XCTAssertEqual(try conn.query("SELECT count(*) FROM a").scalar(Int.self), 2)
    }

    func testMigrateCommandStatus() throws {
        let binary = try Self.leadrouterBinary()
        func run(_ args: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = binary
            process.arguments = args
            process.environment = ["DATABASE_URL": url]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let dir = Self.repoMigrations.path
        let (code1, pending) = try run(["migrate", "--status", "--dir", dir])
        XCTAssertEqual(code1, 0)
        XCTAssertTrue(pending.hasPrefix("pending      0001_schema_v1"), pending)
        XCTAssertEqual(try run(["migrate", "--dir", dir]).0, 0)
        let (code2, applied) = try run(["migrate", "--status", "--dir", dir])
        XCTAssertEqual(code2, 0)
        XCTAssertTrue(applied.hasPrefix("applied      0001_schema_v1 "), applied)
        let (code3, again) = try run(["migrate", "--dir", dir])
        XCTAssertEqual(code3, 0)
        XCTAssertEqual(again, "up to date\n")
    }

    // MARK: - helpers

    /// The `leadrouter` executable built next to this test bundle.
    static func leadrouterBinary() throws -> URL {
        let candidates = [Bundle.main.bundleURL, Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])]
            .compactMap { $0?.deletingLastPathComponent().appendingPathComponent("leadrouter") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            XCTFail("leadrouter binary not found near \(candidates.map(\.path)); build it first (scripts/test.sh does)")
            throw XCTSkip("no leadrouter binary")
        }
        return found
    }

    static func sha256sum(_ file: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
