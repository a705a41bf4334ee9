import Foundation
import Postgres
import XCTest

/// Two `leadrouter serve` processes on one database: an activation made through one node is
/// served by the other within 2 s, without a restart (NOTIFY, with a periodic look as fallback);
/// a rollback through the second node brings the old decisions back on the first.
final class RulesetNodesTests: XCTestCase {
    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    func testSecondNodeServesAnActivationWithinTwoSecondsAndRollsBack() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("leadrouter is not built next to the tests (run `swift build` first)")
        }
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString).yaml")
        try RulesetFixtures.a.write(to: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: rules) }
        let arguments = ["serve", "--port", "0", "--migrate", "--log-level", "info", "--rules", rules.path,
                         "--migrations-dir", repositoryRoot.appendingPathComponent("migrations").path]
        let first = try ServeNode.start(binary: binary, databaseURL: databaseURL, arguments: arguments)
        defer { first.process.terminate(); first.process.waitUntilExit() }
        let second = try ServeNode.start(binary: binary, databaseURL: databaseURL, arguments: arguments)
        defer { second.process.terminate(); second.process.waitUntilExit() }

        let key = try ServeNode.createKey(binary: binary, databaseURL: databaseURL, name: "operator", scopes: "ingest,read,admin")
        let one = try TestHTTPClient(port: first.port), two = try TestHTTPClient(port: second.port)

        func served(_ client: TestHTTPClient) throws -> Int? {
            try client.json("GET", "/v1/segments", key: key).json["ruleset_version"] as? Int
        }
        /// Seconds until `client`'s node serves `version` (nil: not within 5 s).
        func switchTime(_ client: TestHTTPClient, to version: Int) throws -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < 5 {
                if try served(client) == version { return Date().timeIntervalSince(start) }
                usleep(20_000)
            }
            return nil
        }
        XCTAssertEqual(try served(two), 1)
        XCTAssertEqual(try one.json("POST", "/v1/rulesets", key: key, ["yaml": RulesetFixtures.b, "note": "carters"]).status, 201)
        XCTAssertEqual(try served(two), 1, "storing does not activate")

        XCTAssertEqual(try one.json("POST", "/v1/rulesets/2/activate", key: key, [:]).status, 200)
        XCTAssertEqual(try served(one), 2, "the activating node switches before it answers")
        let seconds = try XCTUnwrap(try switchTime(two, to: 2), "the second node never switched")
        XCTAssertLessThan(seconds, 2)
        var r = try two.json("POST", "/v1/events", key: key, ["userId": "u-1", "event": "Product Added"])
        XCTAssertEqual(r.json["ruleset_version"] as? Int, 2, r.text)
        XCTAssertEqual((r.json["segments"] as? [String: Any])?["entered"] as? [String], ["awareness.high-intent.carter"])

        // Rollback through the second node; the first follows.
        XCTAssertEqual(try two.json("POST", "/v1/rulesets/1/activate", key: key, [:]).status, 200)
        XCTAssertLessThan(try XCTUnwrap(try switchTime(one, to: 1)), 2)
        r = try one.json("POST", "/v1/events", key: key, ["userId": "u-2", "event": "Product Added"])
        XCTAssertEqual(r.json["ruleset_version"] as? Int, 1, r.text)
        XCTAssertEqual((r.json["segments"] as? [String: Any])?["entered"] as? [String], [])
    }
}
