import ArgumentParser
import Foundation
import LeadRouterService
import LeadStore
import Logging
import Postgres
import SalesQueues

/// `leadrouter accounts …`: company domain → account owner (owner assignment's first step).
struct AccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Manage account owners by company domain.", subcommands: [AccountsImportCommand.self])
}

/// `leadrouter accounts import FILE.csv`: loads `domain,owner_id` rows in one transaction.
struct AccountsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load account owners from a CSV file (header naming domain and owner_id; other columns ignored).",
        discussion: "All rows go in one transaction; a file with any bad line changes nothing and lists every bad line. Owners are created as needed; a domain already present gets the new owner.")

    @Argument(help: "The CSV file.") var file: String
    @Option(help: "Database URL (default: $DATABASE_URL).") var databaseURL: String?

    func run() throws {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            stderrLine("leadrouter: DATABASE_URL is not set")
            throw ExitCode(78)
        }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            stderrLine("leadrouter: cannot read \(file): \(error.localizedDescription)")
            throw ExitCode(66)
        }
        let csv = AccountsCSV(text)
        guard csv.errors.isEmpty else {
            for error in csv.errors { stderrLine("\(file): \(error)") }
            stderrLine("leadrouter: nothing imported (\(csv.errors.count) bad line(s))")
            throw ExitCode(65)
        }
        var logger = Logger(label: "leadrouter")
        logger.logLevel = .warning
        let connection = try PostgresConnection(configuration: PostgresConfiguration(url: url), logger: logger)
        try connection.withTransaction { try Store($0).upsertAccounts(csv.accounts, now: Date()) }
        print("imported \(csv.accounts.count) account(s) from \(file)")
    }
}
