import ArgumentParser
import Foundation
import Logging
import Postgres

/// `leadrouter migrate`: applies pending migrations (safe to run from several nodes at once), or
/// lists them with `--status`. The migrations are the ones built into the binary unless
/// `--migrations-dir` names a directory of `NNNN_name.sql` files.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations, or list them with --status.")

    @Option(name: .long, help: "PostgreSQL URL (default: the DATABASE_URL environment variable).")
    var databaseURL: String?

    @Option(name: [.customLong("migrations-dir"), .customLong("dir")],
            help: "Directory holding NNNN_name.sql files (default: the migrations built into this binary).")
    var dir: String?

    @Flag(name: .long, help: "List applied, pending and changed migrations; change nothing.")
    var status = false

    func run() throws {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        var logger = Logger(label: "leadrouter.migrate")
        logger.logLevel = .warning
        let migrator = Migrator(
            configuration: PostgresConfiguration(url: url, applicationName: "leadrouter-migrate"),
            source: ServiceRunner.migrations(dir), logger: logger)
        do {
            if status {
                try printStatus(migrator.status())
            } else {
                let applied = try migrator.migrate()
                for file in applied { print("applied \(file.fileName)") }
                print(applied.isEmpty ? "up to date" : "\(applied.count) migration(s) applied")
            }
        } catch let error as PostgresError {
            FileHandle.standardError.write(Data("leadrouter migrate: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func printStatus(_ entries: [MigrationStatus]) throws {
        if entries.isEmpty { print("no migrations in \(ServiceRunner.migrations(dir))") }
        for entry in entries {
            let when = entry.appliedAt.map { " " + ISO8601DateFormatter().string(from: $0) } ?? ""
            print(entry.state.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0) + entry.name + when)
        }
        if entries.contains(where: { $0.state == .changed }) { throw ExitCode(2) }
    }
}

