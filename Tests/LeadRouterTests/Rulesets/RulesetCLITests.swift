import Foundation
import XCTest

/// `leadrouter rules push|history|activate|diff` against a database a service uses, and
/// `GET /v1/rulesets/{a}/diff/{b}` answering what `rules diff` prints.
final class RulesetCLITests: XCTestCase {
    private var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("leadrouter")
    }

    func testPushHistoryActivateAndDiffFromTheCommandLine() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("leadrouter is not built") }
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appendingPathComponent("a.yaml"), b = directory.appendingPathComponent("b.yaml")
        try RulesetFixtures.a.write(to: a, atomically: true, encoding: .utf8)
        try RulesetFixtures.b.write(to: b, atomically: true, encoding: .utf8)
        let environment = ["DATABASE_URL": service.url, "USER": "ops"]
        func run(_ arguments: String...) throws -> (status: Int32, output: String) {
            try runToEnd(binary, ["rules"] + arguments, environment: environment)
        }

        var r = try run("push", b.path, "--note", "carters")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("stored version 2 (not active"), r.output)
        let broken = directory.appendingPathComponent("broken.yaml")
        try RulesetFixtures.b.replacingOccurrences(of: "added_to_cart, 30d", with: "added_to_crat, 30d").write(to: broken, atomically: true, encoding: .utf8)
        r = try run("push", broken.path, "--note", "typo")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("\(broken.path):8:"), r.output)

        r = try run("diff", "1", "2")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output, try run("diff", a.path, b.path).output, "a version and its file compare alike")
        XCTAssertTrue(r.output.contains("added segment awareness.high-intent.carter"), r.output)
        XCTAssertTrue(r.output.contains("changed segment awareness.low-intent.viewer"), r.output)
        XCTAssertTrue(r.output.contains("  - {enter: count(product_viewed, 30d) >= 2, name: awareness.low-intent.viewer}"), r.output)

        let api = try service.client().json("GET", "/v1/rulesets/1/diff/2", key: service.adminKey)
        XCTAssertEqual(api.status, 200, api.text)
        let changes = try XCTUnwrap(api.json["changes"] as? [[String: Any]])
        XCTAssertEqual(changes.map { "\($0["change"] as? String ?? "") \($0["kind"] as? String ?? "") \($0["name"] as? String ?? "")" },
                       r.output.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map(String.init))
        XCTAssertEqual(try service.client().json("GET", "/v1/rulesets/1/diff/5", key: service.adminKey).status, 404)

        r = try run("activate", "2")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("version 2 active (was v1)"), r.output)
        r = try run("history")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("* v2"), r.output)
        XCTAssertTrue(r.output.contains("cli:ops"), r.output)
        XCTAssertTrue(r.output.contains("activation 2: v1 → v2 by cli:ops"), r.output)
        XCTAssertEqual(try run("activate", "9").status, 1)
        // The service follows an activation made by the command line within its check interval.
        let deadline = Date().addingTimeInterval(3)
        while service.app.engine.ruleset.version != 2 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(service.app.engine.ruleset.version, 2)
    }

    /// `rules activate` guards with the servers' `rulesets.confirm_above` (their configuration
    /// file, then `LEADROUTER_RULESETS_CONFIRM_ABOVE`), not a number of its own.
    func testActivateGuardReadsTheServersConfirmAbove() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("leadrouter is not built") }
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let pushed = try service.client().json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": RulesetFixtures.b, "note": "b"])
        XCTAssertEqual(pushed.status, 201, pushed.text)
        // Version 2's last backtest moved 20 % of the leads' routing.
        try service.connection().execute("""
            INSERT INTO jobs (kind, status, params, result, created_by, started_at, finished_at)
            VALUES ('backtest', 'done', '{"version": 2, "from_ms": 0, "to_ms": 1, "sample": 1}', '{"routing_changed_share": 0.2}',
                    'test', now(), now())
            """)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("confirm-\(UUID().uuidString).yaml")
        try "rulesets:\n  confirm_above: 0.25\n".write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        func activate(_ environment: [String: String], _ extra: String...) throws -> (status: Int32, output: String) {
            try runToEnd(binary, ["rules", "activate", "2"] + extra, environment: ["DATABASE_URL": service.url, "USER": "ops"].merging(environment) { $1 })
        }

        var r = try activate([:])
        XCTAssertEqual(r.status, 1, "the default 0.1 is below 0.2: \(r.output)")
        XCTAssertTrue(r.output.contains("moves 20 % of the leads' routing; add --confirm"), r.output)
        r = try activate(["LEADROUTER_RULESETS_CONFIRM_ABOVE": "0.15"], "--config", config.path)
        XCTAssertEqual(r.status, 1, "the variable wins over the file, as for serve: \(r.output)")
        r = try activate(["LEADROUTER_RULESETS_CONFIRM_ABOVE": "nonsense"])
        XCTAssertEqual(r.status, 78, r.output)
        r = try activate(["LEADROUTER_CONFIG": config.path])
        XCTAssertEqual(r.status, 0, "0.2 is within the file's 0.25: \(r.output)")
        XCTAssertTrue(r.output.contains("version 2 active (was v1)"), r.output)
    }
}
