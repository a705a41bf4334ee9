import Foundation
import Logging
import Postgres
import XCTest
@testable import Essentials
@testable import LeadRouterService
import LeadStore

/// A clock the test moves by hand: the service's now (ingest and sweeper), never the engine's.
final class ManualClock: Sendable {
    private let current: Locked<Date>
    init(_ start: Date) { current = Locked(start) }
    var now: Date { current.withLock { $0 } }
    func set(_ date: Date) { current.withLock { $0 = date } }
    func advance(_ seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Throwaway databases on the cluster scripts/test.sh started.
enum TestDatabases {
    static let logger: Logger = {
        var logger = Logger(label: "leadrouter-tests")
        logger.logLevel = .warning
        return logger
    }()

    static func baseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw XCTSkip("DATABASE_URL not set: run through scripts/test.sh")
        }
        return url
    }

    /// Creates `lr_<random>` and returns its URL.
    /// `fromTemplate: false` on Citus: an empty cluster database (the extension and the workers,
    /// nothing migrated), for a test that migrates it itself.
    static func create(fromTemplate: Bool = true) throws -> String {
        let base = try baseURL()
        let name = "lr_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        var components = URLComponents(string: base)!
        components.path = "/" + name
        if fromTemplate, let template = CitusTestDatabases.template {
            try CitusTestDatabases.create(name: String(name), from: template, base: base)
            return components.string!
        }
        let admin = try PostgresConnection(url: base, logger: logger)
        try admin.executeScript(unsafeSQL: "CREATE DATABASE \(name)")
        try CitusTestDatabases.prepare(name: String(name), url: components.string!)
        return components.string!
    }

    static func drop(_ url: String) {
        guard let base = try? baseURL(), let admin = try? PostgresConnection(url: base, logger: logger),
              let name = URLComponents(string: url)?.path.dropFirst() else { return }
        try? admin.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        CitusTestDatabases.drop(name: name)
    }
}

/// The repository root (for migrations/ and config/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// A running leadrouter on 127.0.0.1 (port 0) against its own migrated database, with keys
/// for each scope and a manual clock.
final class TestService: @unchecked Sendable {
    let url: String
    let app: LeadRouterApp
    let clock: ManualClock
    let ingestKey: String
    let readKey: String
    let adminKey: String
    let port: Int

    init(test: XCTestCase, start: Date = Date(timeIntervalSince1970: 1_795_000_000), rulesYAML: String? = nil,
         logger: Logger = TestDatabases.logger, configure: (inout LeadRouterApp.Options) -> Void = { _ in }) throws {
        url = try TestDatabases.create()
        clock = ManualClock(start)
        let yaml = try rulesYAML ?? String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
        var options = LeadRouterApp.Options(databaseURL: url, rulesYAML: yaml, rulesFileName: "config/segments.yaml")
        options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
        options.server.host = "127.0.0.1"
        options.server.port = 0
        options.server.eventLoopCount = 2
        options.server.workerThreads = 24
        options.server.shutdownGracePeriod = 2
        options.runSweeper = false
        options.webhooks.enabled = false  // webhook tests turn delivery on
        let clock = self.clock
        options.clock = { clock.now }
        configure(&options)
        app = try LeadRouterApp(options: options, logger: logger)
        try app.start()
        port = app.port!
        ingestKey = try app.createKey(name: "ingest", scopes: [.ingest])
        readKey = try app.createKey(name: "read", scopes: [.read])
        adminKey = try app.createKey(name: "admin", scopes: [.admin])
        let app = self.app, url = self.url
        test.addTeardownBlock {
            app.stop()
            TestDatabases.drop(url)
        }
    }

    func client() throws -> TestHTTPClient { try TestHTTPClient(port: port) }

    /// One count from the service's database.
    func count(_ sql: String) throws -> Int {
        let conn = try PostgresConnection(url: url, logger: TestDatabases.logger)
        return try conn.query(PostgresQuery(unsafeRaw: sql)).scalar(Int.self)
    }

    func connection() throws -> PostgresConnection { try PostgresConnection(url: url, logger: TestDatabases.logger) }

    /// A paused subscription to every topic: ingest writes outbox rows only for topics some
    /// subscription lists, so tests that look at the outbox without a receiver add this one
    /// (paused: its deliveries are created, never sent).
    func subscribeToEveryTopic() throws {
        let topics = OutboxTopic.allCases.map(\.rawValue)
        try connection().execute(
            "INSERT INTO subscriptions (url, topics, secret, active) VALUES ('http://127.0.0.1:9/all', \(topics), 'test', false)")
    }
}

/// ISO 8601 with milliseconds, as Segment SDKs send `timestamp`.
func iso(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: date)
}
