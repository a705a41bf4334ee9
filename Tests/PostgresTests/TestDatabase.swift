import Foundation
import Logging
import Postgres
import XCTest

/// The cluster scripts/test.sh started, and throwaway databases on it for tests that need a clean one.
enum TestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// `DATABASE_URL`, or a skip when the tests run outside scripts/test.sh.
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw XCTSkip("DATABASE_URL not set: run through scripts/test.sh")
        }
        return url
    }

    static func connect(_ url: String? = nil) throws -> PostgresConnection {
        try PostgresConnection(configuration: PostgresConfiguration(url: url ?? self.url()), logger: logger)
    }

    /// Creates `test_<random>` and returns its URL; call `drop` when done.
    static func create() throws -> String {
        let base = try url()
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let admin = try connect(base)
        try admin.executeScript(unsafeSQL: "CREATE DATABASE \(name)")
        return replacingDatabase(in: base, with: String(name))
    }

    static func drop(_ url: String) {
        guard let base = try? self.url(), let admin = try? connect(base),
            let name = url.split(separator: "/").last?.split(separator: "?").first
        else { return }
        try? admin.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    static func replacingDatabase(in url: String, with name: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    /// Terminates the given backends and waits until the server no longer lists them.
    static func terminate(_ pids: [Int32]) throws {
        let admin = try connect()
        for pid in pids {
            try admin.query("SELECT pg_terminate_backend(\(pid))")
        }
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline {
            let alive = try admin.query(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(\(pids))"
            ).scalar(Int.self)
            if alive == 0 { return }
            usleep(10_000)
        }
        XCTFail("backends \(pids) still alive after 10 s")
    }
}

/// A test case that gets its own empty database per test, dropped afterwards.
class FreshDatabaseTestCase: XCTestCase {
    /// The URL of this test's database.
    var url: String!

    override func setUpWithError() throws { url = try TestDatabase.create() }
    override func tearDown() { if let url { TestDatabase.drop(url) } }
}
