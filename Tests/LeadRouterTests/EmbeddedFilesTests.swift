import Embedded
import Foundation
import Postgres
import XCTest

/// What the binary carries (generated at build time by Sources/EmbedFilesPlugin) is the
/// repository's files byte for byte: the migrations' checksums, `config print`'s defaults and
/// the served OpenAPI document depend on it.
final class EmbeddedFilesTests: XCTestCase {
    func testEmbeddedMigrationsAreTheRepositoryFiles() throws {
        let onDisk = try MigrationFile.load(directory: repositoryRoot.appendingPathComponent("migrations"))
        let embedded = try MigrationSource.embedded(EmbeddedFiles.migrations).load()
        XCTAssertEqual(embedded.map(\.fileName), onDisk.map(\.fileName))
        for (a, b) in zip(embedded, onDisk) { XCTAssertEqual(Array(a.sql.utf8), Array(b.sql.utf8), a.fileName) }
        XCTAssertFalse(embedded.isEmpty)
    }

    func testEmbeddedDocumentsAreTheRepositoryFiles() throws {
        for (path, text) in [("config/segments.yaml", EmbeddedFiles.sampleRules),
                             ("config/leadrouter.yaml", EmbeddedFiles.configurationReference),
                             ("docs/openapi.yaml", EmbeddedFiles.openAPI)] {
            let file = try Data(contentsOf: repositoryRoot.appendingPathComponent(path))
            XCTAssertEqual(Array(text.utf8), Array(file), "\(path) differs from what the binary carries")
        }
    }

    func testTheRevisionIsAVersionWord() {
        let revision = BuildRevision.revision
        XCTAssertFalse(revision.isEmpty)
        XCTAssertNil(revision.rangeOfCharacter(from: CharacterSet(charactersIn: "\"\\ \n")), revision)
        // In a git checkout (as here) it is the commit, not the fallback.
        if FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(".git").path),
           ProcessInfo.processInfo.environment["LEADROUTER_REVISION"] == nil {
            XCTAssertNotNil(revision.range(of: "^[0-9a-f]{12}(-dirty)?$", options: .regularExpression), revision)
        }
    }

    /// A migration directory with a misnamed file is refused whether read from disk or embedded.
    func testEmbeddedMigrationsGoThroughTheSameChecks() {
        XCTAssertThrowsError(try MigrationSource.embedded([("1_x.sql", "SELECT 1"), ("0001_a.sql", "")]).load())
        XCTAssertThrowsError(try MigrationSource.embedded([("0001_a.sql", ""), ("0001_b.sql", "")]).load())
    }
}
