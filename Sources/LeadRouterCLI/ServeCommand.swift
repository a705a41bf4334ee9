import ArgumentParser
import Foundation
import HTTPServer
import LeadRouterService
import Logging

/// `leadrouter serve`: runs the HTTP server until SIGTERM/SIGINT, then stops gracefully.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (DATABASE_URL, --rules, --migrate).",
        discussion: """
            Settings come from defaults, then --config (or LEADROUTER_CONFIG), then these flags, \
            then LEADROUTER_* environment variables (LEADROUTER_HOST, LEADROUTER_PORT, …), each \
            overriding the one before. See config/leadrouter.yaml for every key.
            """)

    @Option(help: "YAML configuration file (default: $LEADROUTER_CONFIG, else built-in defaults).")
    var config: String?
    @Option(help: "Listen address, numeric IPv4 or IPv6 (e.g. 127.0.0.1, ::).") var host: String?
    @Option(help: "Listen port (0 picks a free one).") var port: String?
    @Option(help: "Event-loop threads (0 = one per core).") var eventLoops: String?
    @Option(help: "Handler worker threads (0 = two per core, at least 4).") var workerThreads: String?
    @Option(help: "Maximum open connections.") var maxConnections: String?
    @Option(help: "PEM certificate chain: serve HTTPS.") var tlsCertificate: String?
    @Option(help: "PEM private key for --tls-certificate.") var tlsKey: String?
    @Option(help: "Group-commit writer lanes (default 4).") var ingestLanes: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?
    @Option(help: "The ruleset (segments, scoring, routing); refused at start when it has errors.")
    var rules = "config/segments.yaml"
    @Flag(help: "Apply pending migrations before serving.") var migrate = false
    @Option(help: "Directory of the migration files for --migrate.") var migrationsDir = "migrations"

    var flags: [String: String] {
        let all: [(String, String?)] = [
            ("host", host), ("port", port), ("event-loops", eventLoops), ("worker-threads", workerThreads),
            ("max-connections", maxConnections), ("tls-certificate", tlsCertificate), ("tls-key", tlsKey),
            ("log-level", logLevel), ("ingest-lanes", ingestLanes),
        ]
        return Dictionary(uniqueKeysWithValues: all.compactMap { name, value in value.map { (name, $0) } })
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServiceConfiguration
        do {
            settings = try ServiceConfiguration.resolve(file: config ?? environment["LEADROUTER_CONFIG"],
                                                        flags: flags, environment: environment)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("leadrouter: configuration: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        let logger = ServiceRunner.bootstrapLogging(level: settings.logLevel)
        guard let databaseURL = environment["DATABASE_URL"], !databaseURL.isEmpty else {
            stderrLine("leadrouter: DATABASE_URL is not set (or run `leadrouter dev` for a private database)")
            throw ExitCode(78)
        }
        var options = LeadRouterApp.Options(databaseURL: databaseURL, rulesYAML: try ServiceRunner.readRules(rules),
                                            rulesFileName: rules)
        options.server = settings.server.httpServerConfiguration
        options.server.logPrivacy.personalData = settings.logPersonalData
        options.webhooks = settings.webhooks
        options.ingestLanes = settings.ingestLanes
        options.ingestLimits = settings.ingestLimits
        options.corsAllowedOrigins = settings.corsAllowedOrigins
        options.rateLimits = settings.rateLimits
        options.statementTimeout = settings.statementTimeout
        options.retention = settings.retention
        options.contextIP = settings.contextIP
        options.version = LeadrouterVersion.string
        if migrate { options.migrationsDirectory = URL(fileURLWithPath: migrationsDir) }
        // Block SIGTERM/SIGINT before any thread exists (pool, lanes, server), so only the signalfd sees them.
        let signals = try ShutdownSignals()
        let app = try ServiceRunner.makeApp(options, logger: logger)
        try ServiceRunner.serve(app, signals: signals, logger: logger)
    }
}
