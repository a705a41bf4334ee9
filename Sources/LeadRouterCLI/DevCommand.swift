import ArgumentParser
import Foundation
import HTTPServer
import LeadRouterService
import LeadStore
import Logging

/// `leadrouter dev`: the whole service on one machine with no setup — a private PostgreSQL in
/// ./.leadrouter/pg, migrated, a dev key with every scope printed, config/segments.yaml loaded,
/// serving on 127.0.0.1:8080; the private PostgreSQL stops when leadrouter does.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run locally with a private PostgreSQL (no DATABASE_URL needed).",
        discussion: "Ctrl-C (SIGINT) or SIGTERM stops the server and then its PostgreSQL. See docs/dev.md.")

    @Option(help: "Where the private PostgreSQL cluster lives (reused across runs).") var dataDir = ".leadrouter/pg"
    @Option(help: "The ruleset.") var rules = "config/segments.yaml"
    @Option(help: "Directory of the migration files.") var migrationsDir = "migrations"
    @Option(help: "Listen address.") var host = "127.0.0.1"
    @Option(help: "Listen port.") var port = 8080
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func run() throws {
        let logger = ServiceRunner.bootstrapLogging(level: logLevel)
        let yaml = try ServiceRunner.readRules(rules)
        // Block SIGTERM/SIGINT first: PostgreSQL's start takes seconds, and a Ctrl-C then must
        // still stop it rather than kill us and leave it running.
        let signals = try ShutdownSignals()
        let postgres = try EmbeddedPostgres(dataDirectory: URL(fileURLWithPath: dataDir), logger: logger)
        try postgres.start()
        defer { postgres.stop() }

        var options = LeadRouterApp.Options(databaseURL: postgres.url, rulesYAML: yaml, rulesFileName: rules)
        options.migrationsDirectory = URL(fileURLWithPath: migrationsDir)
        options.server.host = host
        options.server.port = port
        // A laptop's receivers live on localhost or the LAN: dev lets webhooks go there (serve does not).
        options.webhooks.allowPrivateNetworks = true
        options.version = LeadrouterVersion.string
        let app = try ServiceRunner.makeApp(options, logger: logger)
        try ServiceRunner.serve(app, signals: signals, logger: logger) { app in
            let key = try app.createKey(name: "dev \(ISO8601DateFormatter().string(from: Date()))", scopes: Set(APIScope.allCases))
            FileHandle.standardOutput.write(Data("""
                leadrouter dev: PostgreSQL at \(postgres.url) (data in \(dataDir))
                leadrouter dev: serving on http://\(host):\(app.port ?? port)  (Ctrl-C stops both)
                leadrouter dev: API key with every scope (ingest, read, write, queue, admin):
                \(key)

                """.utf8))
        }
    }
}
