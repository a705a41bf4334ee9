import ArgumentParser
import Foundation
import LeadRouterService
import LeadStore
import Logging
import Postgres

/// `leadrouter keys …`: API keys (stored as SHA-256; the key itself is shown once).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [KeysCreateCommand.self])
}

/// `leadrouter keys create --name N --scopes ingest[,read,…]`: prints the new key alone on its last line.
struct KeysCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key; the key is printed once, alone on the last line.",
        discussion: "A key with scope ingest is a Segment write key. Scopes: ingest, read, write (lead changes), queue, admin (admin implies all).")

    @Option(help: "A name to recognise the key by.") var name: String
    @Option(help: "Comma-separated scopes: ingest, read, write (lead changes), queue, admin; e.g. ingest or read,write.") var scopes: String
    @Option(help: "Require X-Leadrouter-Signature (HMAC-SHA256 with this secret) on POST /v1/events.")
    var signingSecret: String?
    @Option(help: "Database URL (default: $DATABASE_URL).") var databaseURL: String?

    func run() throws {
        let parsed: Set<APIScope>
        do { parsed = try APIScope.parseList(scopes) } catch { throw ValidationError("\(error)") }
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            stderrLine("leadrouter: DATABASE_URL is not set")
            throw ExitCode(78)
        }
        var logger = Logger(label: "leadrouter")
        logger.logLevel = .warning
        let connection = try PostgresConnection(configuration: PostgresConfiguration(url: url), logger: logger)
        let key = NewAPIKey.generate()
        let id = try Store(connection).createAPIKey(name: name, key: key, scopes: parsed, signingSecret: signingSecret)
        print("created key \(id.uuidString.lowercased()) '\(name)' with scopes \(parsed.sorted().map(\.rawValue).joined(separator: ","))")
        print(key.plaintext)
    }
}
