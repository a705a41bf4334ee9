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
}
