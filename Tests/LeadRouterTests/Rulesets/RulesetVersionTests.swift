import Foundation
import Postgres
import XCTest
@testable import LeadRouterService

/// `POST/GET /v1/rulesets`: versions are checked like `rules check`, numbered by the service,
/// stored without activating, and never rewritten; `serve --rules` adopts a changed file as a
/// new version with its `# note:`.
final class RulesetVersionTests: XCTestCase {
    func testPushStoresACheckedImmutableVersionWithoutActivatingIt() throws {
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let client = try service.client()
        var r = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": RulesetFixtures.b, "note": "carters"])
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["version"] as? Int, 2, "one above the file's version 1, whatever `version:` says")
        XCTAssertEqual(r.json["author"] as? String, "admin", "the key's name")
        XCTAssertEqual(r.json["note"] as? String, "carters")
        XCTAssertEqual(r.json["active"] as? Bool, false)
        XCTAssertEqual((r.json["checksum"] as? String)?.count, 64)

        r = try client.json("GET", "/v1/rulesets", key: service.adminKey)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["active_version"] as? Int, 1)
        let data = try XCTUnwrap(r.json["data"] as? [[String: Any]])
        XCTAssertEqual(data.map { $0["version"] as? Int }, [2, 1])
        XCTAssertEqual(data[1]["author"] as? String, "file:config/segments.yaml")
        XCTAssertEqual(data[1]["note"] as? String, "first cut", "the file's `# note:` first line")
        XCTAssertNotNil(data[1]["activated_at"] as? String)
        XCTAssertNil(data[0]["yaml"], "the list leaves the text out")

        r = try client.json("GET", "/v1/rulesets/2", key: service.adminKey)
        XCTAssertEqual(r.json["yaml"] as? String, RulesetFixtures.b)
        XCTAssertEqual(try client.json("GET", "/v1/rulesets/9", key: service.adminKey).status, 404)
        XCTAssertEqual(try client.json("GET", "/v1/rulesets", key: service.readKey).status, 403)
        // Storing did not switch anything.
        XCTAssertEqual(service.app.engine.ruleset.version, 1)

        // The stored text cannot be rewritten or deleted, whoever tries.
        let conn = try service.connection()
        XCTAssertThrowsError(try conn.execute("UPDATE rulesets SET yaml = 'version: 9' WHERE version = 2"))
        XCTAssertThrowsError(try conn.execute("UPDATE rulesets SET note = 'other' WHERE version = 1"))
        XCTAssertThrowsError(try conn.execute("DELETE FROM rulesets WHERE version = 2"))
        XCTAssertEqual(try service.count("SELECT count(*) FROM rulesets"), 2)
    }

    func testAnInvalidTextIsRefusedWithLineAndColumnAndChangesNothing() throws {
        let service = try TestService(test: self, rulesYAML: RulesetFixtures.a)
        let client = try service.client()
        let bad = RulesetFixtures.b.replacingOccurrences(of: "count(added_to_cart, 30d)", with: "count(added_to_crat, 30d)")
        var r = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": bad, "note": "typo"])
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.header("content-type"), "application/problem+json")
        let errors = try XCTUnwrap(r.json["errors"] as? [[String: Any]])
        XCTAssertEqual(errors.first?["pointer"] as? String, "/yaml")
        XCTAssertEqual(errors.first?["line"] as? Int, 8)
        XCTAssertNotNil(errors.first?["column"] as? Int)
        XCTAssertTrue((errors.first?["detail"] as? String)?.contains("added_to_crat") ?? false, r.text)
        XCTAssertEqual(r.json["detail"] as? String, "yaml: 1 error")

        r = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": RulesetFixtures.b])
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual((r.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, "/note")
        r = try client.json("POST", "/v1/rulesets", key: service.adminKey, ["yaml": RulesetFixtures.b, "note": " ", "v": 1])
        XCTAssertEqual(r.status, 422, r.text)
        r = try client.request("POST", "/v1/rulesets", headers: ["Authorization": "Bearer \(service.adminKey)"], body: Array("[".utf8))
        XCTAssertEqual(r.status, 400, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM rulesets"), 1)
    }

    /// `serve --rules`: a changed file becomes a new, active version (author `file:<path>`, the
    /// `--note`); the same text again adds nothing; without `--rules` the active stored version
    /// is served, whatever the file says.
    func testServeAdoptsAChangedFileAndOtherwiseServesTheActiveVersion() throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        func app(_ yaml: String, note: String? = nil, fromDatabase: Bool = false) throws -> LeadRouterApp {
            var options = LeadRouterApp.Options(databaseURL: url, rulesYAML: yaml, rulesFileName: "rules.yaml")
            options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
            options.runSweeper = false
            options.rulesNote = note
            options.rulesFromDatabase = fromDatabase
            return try LeadRouterApp(options: options, logger: TestDatabases.logger)
        }
        var node = try app(RulesetFixtures.a)
        XCTAssertEqual(node.engine.ruleset.version, 1)
        node.stop()
        node = try app(RulesetFixtures.a)
        XCTAssertEqual(node.engine.ruleset.version, 1, "the same text is the same version")
        node.stop()
        node = try app(RulesetFixtures.b, note: "from the file")
        XCTAssertEqual(node.engine.ruleset.version, 2)
        XCTAssertEqual(node.engine.ruleset.segments.count, 2)
        node.stop()
        node = try app(RulesetFixtures.a, fromDatabase: true)
        XCTAssertEqual(node.engine.ruleset.version, 2, "without --rules the active version wins over the file")
        XCTAssertEqual(node.engine.ruleset.segments.count, 2)
        node.stop()
        let conn = try PostgresConnection(url: url, logger: TestDatabases.logger)
        XCTAssertEqual(try conn.query("SELECT string_agg(concat_ws(';', version, author, note, active), '|' ORDER BY version) FROM rulesets")
            .scalar(String.self), "1;file:rules.yaml;first cut;f|2;file:rules.yaml;from the file;t")
        // A file equal to an older version activates that version instead of storing a copy.
        node = try app(RulesetFixtures.a)
        XCTAssertEqual(node.engine.ruleset.version, 1)
        node.stop()
        XCTAssertEqual(try conn.query("SELECT count(*) FROM rulesets").scalar(Int.self), 2)
        XCTAssertEqual(try conn.query("SELECT version FROM rulesets WHERE active").scalar(Int.self), 1)
    }
}
