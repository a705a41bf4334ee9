import Foundation
import Postgres
import Segmentation
import XCTest
@testable import Ingest
@testable import LeadRouterService

/// A new ruleset that counts something the old one did not: the lead's signal is backfilled from
/// its stored events before the first decision under the new ruleset uses it. And `serve` refuses
/// a ruleset with errors, printing them as `rules check` does.
final class RulesetChangeTests: XCTestCase {
    static let before = """
        version: 1
        events:
          aliases: { "Product Viewed": product_viewed, "Product Added": added_to_cart }
        stages:
          - { stage: awareness, when: 'true' }
        segments:
          - name: awareness.low-intent.viewer
            enter: 'count(product_viewed, 30d) >= 1'
            route: { email: { sequence: picks } }
        """
    static let after = before.replacingOccurrences(of: "version: 1", with: "version: 2") + """

          - name: awareness.high-intent.carter
            enter: 'count(added_to_cart, 30d) >= 2'
            route: { email: { sequence: carts } }
        """

    func testNewSignalIsBackfilledFromStoredEventsBeforeItDecides() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        func app(_ yaml: String) throws -> LeadRouterApp {
            var options = LeadRouterApp.Options(databaseURL: url, rulesYAML: yaml, rulesFileName: "rules.yaml")
            options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
            options.runSweeper = false
            options.clock = { clock.now }
            return try LeadRouterApp(options: options, logger: TestDatabases.logger)
        }
        func message(_ event: String) -> SegmentMessage {
            let body = Array(#"{"userId": "u-b", "event": "\#(event)"}"#.utf8)
            return try! SegmentMessageDecoder().decodeSingle(body, kind: .track, receivedAt: clock.now)
        }
        let first = try app(Self.before)
        let key = UUID()
        for _ in 0..<2 {
            _ = try first.ingest.ingest(message("Product Added"), writeKey: key)
            clock.advance(60)
        }
        first.stop()

        let second = try app(Self.after)
        defer { second.stop() }
        let result = try second.ingest.ingest(message("Product Viewed"), writeKey: key)
        let decision = try result.decision.decode(Decision.self)
        XCTAssertEqual(decision.rulesetVersion, 2)
        XCTAssertEqual(decision.segments.entered, ["awareness.high-intent.carter", "awareness.low-intent.viewer"],
                       "two earlier Product Added events count under the new ruleset")
        let conn = try PostgresConnection(url: url, logger: TestDatabases.logger)
        XCTAssertEqual(try conn.query("SELECT version FROM rulesets WHERE active").scalar(Int.self), 2)
        XCTAssertEqual(try conn.query("SELECT count(*) FROM rulesets").scalar(Int.self), 2)
    }

    func testServeRefusesARulesetWithErrorsAndPrintsThem() throws {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("leadrouter")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("leadrouter is not built") }
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        try Self.before.replacingOccurrences(of: "count(product_viewed, 30d) >= 1", with: "count(prodct_viewed, 30d) >= 1")
            .write(to: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: rules) }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", "0", "--rules", rules.path]
        process.environment = ["DATABASE_URL": try TestDatabases.baseURL()]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(output.contains("\(rules.path):8:"), output)
        XCTAssertTrue(output.contains("prodct_viewed"), output)
        XCTAssertTrue(output.contains("\(rules.path): 1 error"), output)
    }
}
