import ArgumentParser
import Foundation
import HTTPServer
import LeadRouterService
import LeadStore
import Logging

/// `leadrouter dev`: the whole service on one machine with no setup — a private PostgreSQL in
/// ./.leadrouter/pg (Unix socket only), migrated, a dev key with every scope kept in
/// ./.leadrouter/pg-dev-key (0600) and printed, config/segments.yaml loaded, serving on
/// 127.0.0.1:8080 (loopback only unless --allow-remote); the private PostgreSQL stops when
/// leadrouter does.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run locally with a private PostgreSQL (no DATABASE_URL needed).",
        discussion: "Ctrl-C (SIGINT) or SIGTERM stops the server and then its PostgreSQL. See docs/dev.md.")

    @Option(help: "Where the private PostgreSQL cluster lives (reused across runs).") var dataDir = ".leadrouter/pg"
    @Option(help: "The ruleset (default: config/segments.yaml when it exists, else the built-in sample).") var rules: String?
    @Option(help: "Directory of the migration files (default: the ones built into this binary).") var migrationsDir: String?
    @Option(help: "Listen address (loopback unless --allow-remote).") var host = "127.0.0.1"
    @Flag(help: "Allow a --host other machines can reach (the dev key has every scope).") var allowRemote = false
    @Option(help: "Listen port.") var port = 8080
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func validate() throws {
        guard allowRemote || DevSafety.isLoopback(host: host) else {
            throw ValidationError("""
                --host \(host) is not a loopback address: other machines could reach a service whose printed key has \
                every scope. Pass --allow-remote as well if that is what you want.
                """)
        }
    }

    func run() throws {
        let logger = ServiceRunner.bootstrapLogging(level: logLevel)
        let ruleset = try ServiceRunner.ruleset(rules, logger: logger)
        // Block SIGTERM/SIGINT first: PostgreSQL's start takes seconds, and a Ctrl-C then must
        // still stop it rather than kill us and leave it running.
        let signals = try ShutdownSignals()
        let postgres = try EmbeddedPostgres(dataDirectory: URL(fileURLWithPath: dataDir), logger: logger)
        try postgres.start()
        defer { postgres.stop() }

        var options = LeadRouterApp.Options(databaseURL: postgres.url, rulesYAML: ruleset.yaml, rulesFileName: ruleset.name)
        options.migrations = ServiceRunner.migrations(migrationsDir)
        options.server.host = host
        options.server.port = port
        // A laptop's receivers live on localhost or the LAN: dev lets webhooks go there (serve does not).
        options.webhooks.allowPrivateNetworks = true
        options.version = LeadrouterVersion.string
        let app = try ServiceRunner.makeApp(options, logger: logger)
        try ServiceRunner.serve(app, signals: signals, logger: logger) { app in
            let keyFile = DevSafety.keyFile(forDataDirectory: URL(fileURLWithPath: dataDir))
            let (key, reused) = try DevSafety.reuseOrCreateKey(
                app: app, file: keyFile, name: "dev \(ISO8601DateFormatter().string(from: Date()))")
            FileHandle.standardOutput.write(Data("""
                leadrouter dev: PostgreSQL at \(postgres.url) (data in \(dataDir), Unix socket only)
                leadrouter dev: serving on http://\(host):\(app.port ?? port)  (Ctrl-C stops both)
                leadrouter dev: API key with every scope (ingest, read, write, queue, admin), \(reused ? "kept" : "new, saved") in \(keyFile.path):
                \(key)

                """.utf8))
        }
    }
}
