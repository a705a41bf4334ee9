import Embedded
import XCTest
@testable import LeadRouterService

/// `leadrouter config print`: every key with its effective value and source, secrets redacted.
final class ConfigPrintTests: XCTestCase {
    func testEveryKeyShowsItsValueAndSourceWithSecretsRedacted() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lr-config-\(UUID().uuidString).yaml")
        try """
            server:
              port: 9000
            webhooks:
              subscriptions:
                - name: crm
                  url: https://crm.example.com/hook?token=abc
                  topics: [lead.routed]
                  secret: "a very secret secret value"
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let c = try ServiceConfiguration.resolve(file: file.path, flags: ["log-level": "debug"],
                                                 environment: ["LEADROUTER_INGEST_LANES": "6"])
        let text = EffectiveConfiguration.render(c, reference: EmbeddedFiles.configurationReference,
                                                 databaseURL: "postgresql://lr:hunter2@db:5432/leadrouter?sslmode=require")
        let lines = text.split(separator: "\n").map(String.init)
        func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + ":") } ?? "(no \(key))" }
        XCTAssertTrue(line("server.port").contains("9000") && line("server.port").contains(file.path + ":2:"), line("server.port"))
        XCTAssertTrue(line("logging.level").contains("debug") && line("logging.level").hasSuffix("# --log-level"))
        XCTAssertTrue(line("ingest.lanes").contains(" 6 ") && line("ingest.lanes").hasSuffix("# LEADROUTER_INGEST_LANES"))
        XCTAssertTrue(line("server.host").contains("127.0.0.1") && line("server.host").hasSuffix("# default"))
        XCTAssertTrue(line("server.limits.max_body_bytes").contains("1048576"))
        XCTAssertTrue(line("database_url").contains("postgresql://lr:<redacted>@db:5432/leadrouter?sslmode=require"), line("database_url"))
        for key in ConfigurationKey.all { XCTAssertNotEqual(line(key.path), "(no \(key.path))") }
        XCTAssertFalse(lines.contains { $0.contains("? ") || $0.hasSuffix(": ?") }, "a default was not found in the reference")
        XCTAssertFalse(text.contains("hunter2"))
        XCTAssertFalse(text.contains("a very secret secret value"))
        XCTAssertTrue(text.contains("secret: \"<redacted>\""))
    }

    func testPasswordsInQueryStringsAreRedactedToo() {
        XCTAssertEqual(EffectiveConfiguration.redactingPassword("postgresql://db/x?user=a&password=b"),
                       "postgresql://db/x?user=a&password=<redacted>")
        XCTAssertEqual(EffectiveConfiguration.redactingPassword("host=db password=x user=a"), "host=db password=<redacted> user=a")
        XCTAssertEqual(EffectiveConfiguration.redactingPassword("host=db password = 'a b' user=a"), "host=db password=<redacted> user=a")
    }

    /// Every key's line in the reference names its environment variable (and its flag, if any).
    func testTheReferenceNamesEachKeysVariableOnItsLine() {
        let lines = EmbeddedFiles.configurationReference.split(separator: "\n")
        for key in ConfigurationKey.all {
            let leaf = key.path.split(separator: ".").last! + ":"
            XCTAssertTrue(lines.contains { $0.contains(leaf) && $0.contains(key.environment) },
                          "\(key.path): no line with \(leaf) and \(key.environment)")
            if let flag = key.flag {
                XCTAssertTrue(lines.contains { $0.contains(key.environment) && $0.contains("--" + flag) }, "\(key.path): --\(flag) not documented")
            }
        }
        XCTAssertTrue(EmbeddedFiles.configurationReference.contains("DATABASE_URL"))
        XCTAssertTrue(EmbeddedFiles.configurationReference.contains("LEADROUTER_CONFIG"))
    }
}
