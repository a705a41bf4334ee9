import Foundation
import Postgres
import XCTest

/// A fresh database with every migration of the repository applied and one connection to it:
/// for tests of what the schema itself does (its functions, checks and settings).
class MigratedDatabaseTestCase: FreshDatabaseTestCase {
    var conn: PostgresConnection!

    override func setUpWithError() throws {
        try super.setUpWithError()
        try Migrator(configuration: PostgresConfiguration(url: url), directory: MigrationTests.repoMigrations,
                     logger: TestDatabase.logger).migrate()
        conn = try TestDatabase.connect(url)
    }

    override func tearDown() {
        conn = nil
        super.tearDown()
    }
}
