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

    @OptionGroup var settings: ServiceFlags
    @Option(help: """
        The ruleset (segments, scoring, routing); refused at start when it has errors; a text that \
        differs from the active version becomes a new version and is activated. Default: the \
        active stored version, else config/segments.yaml when it exists, else the built-in sample.
        """)
    var rules: String?
    @Option(help: """
        The note of the new version when --rules names a file whose text differs from the active \
        version (default: a first line `# note: …`, else one naming the file).
        """)
    var note: String?
    @Flag(help: "Apply pending migrations before serving.") var migrate = false
    @Option(help: "Directory of the migration files for --migrate (default: the ones built into this binary).")
    var migrationsDir: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = try self.settings.resolve(environment: environment)
        let logger = ServiceRunner.bootstrapLogging(level: settings.logLevel, format: settings.logFormat)
        guard let databaseURL = environment["DATABASE_URL"], !databaseURL.isEmpty else {
            stderrLine("leadrouter: DATABASE_URL is not set (or run `leadrouter dev` for a private database)")
            throw ExitCode(78)
        }
        let ruleset = try ServiceRunner.ruleset(rules, logger: logger)
        var options = LeadRouterApp.Options(databaseURL: databaseURL, rulesYAML: ruleset.yaml, rulesFileName: ruleset.name)
        options.server = settings.server.httpServerConfiguration
        options.server.logPrivacy.personalData = settings.logPersonalData
        options.webhooks = settings.webhooks
        options.ingestLanes = settings.ingestLanes
        options.ingestLimits = settings.ingestLimits
        options.corsAllowedOrigins = settings.corsAllowedOrigins
        options.rateLimits = settings.rateLimits
        options.statementTimeout = settings.statementTimeout
        options.databaseReadURL = environment["DATABASE_READ_URL"].flatMap { $0.isEmpty ? nil : $0 }
        options.readMaxLag = settings.readMaxLag
        options.commitWait = settings.commitWait
        options.retention = settings.retention
        options.contextIP = settings.contextIP
        options.metricsPort = settings.metricsPort
        options.drift = settings.drift
        options.rollupFoldInterval = settings.rollupFoldInterval
        options.rulesNote = note
        // Without --rules the version activated through the API (if any) is served, so a restart
        // never undoes an activation; with --rules the file's text becomes the active version.
        options.rulesFromDatabase = rules == nil
        options.rulesetCheckInterval = settings.rulesets.checkInterval
        options.reevaluationRate = settings.rulesets.reevaluationRate
        options.rulesetConfirmAbove = settings.rulesets.confirmAbove
        options.backtestWorkers = settings.rulesets.workers
        options.version = LeadrouterVersion.string
        if migrate { options.migrations = ServiceRunner.migrations(migrationsDir) }
        // Block SIGTERM/SIGINT before any thread exists (pool, lanes, server), so only the signalfd sees them.
        let signals = try ShutdownSignals()
        let app = try ServiceRunner.makeApp(options, logger: logger)
        try ServiceRunner.serve(app, signals: signals, logger: logger)
    }
}

/// The settings flags of `serve` (and `config print`): each overrides its key of the file and is
/// overridden by the key's `LEADROUTER_*` variable (config/leadrouter.yaml lists them).
struct ServiceFlags: ParsableArguments {
    @Option(help: "YAML configuration file (default: $LEADROUTER_CONFIG, else built-in defaults).")
    var config: String?
    @Option(help: "Listen address, numeric IPv4 or IPv6 (e.g. 127.0.0.1, ::).") var host: String?
    @Option(help: "Listen port (0 picks a free one).") var port: String?
    @Option(help: "Event-loop threads (0 = one per core).") var eventLoops: String?
    @Option(help: "Handler worker threads (0 = two per core, at least 4).") var workerThreads: String?
    @Option(help: "Maximum open connections.") var maxConnections: String?
    @Option(help: "PEM certificate chain: serve HTTPS.") var tlsCertificate: String?
    @Option(help: "PEM private key for --tls-certificate.") var tlsKey: String?
    @Option(help: "Group-commit writer lanes (default 2).") var ingestLanes: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?

    var flags: [String: String] {
        let all: [(String, String?)] = [
            ("host", host), ("port", port), ("event-loops", eventLoops), ("worker-threads", workerThreads),
            ("max-connections", maxConnections), ("tls-certificate", tlsCertificate), ("tls-key", tlsKey),
            ("log-level", logLevel), ("ingest-lanes", ingestLanes),
        ]
        return Dictionary(uniqueKeysWithValues: all.compactMap { name, value in value.map { (name, $0) } })
    }

    /// Defaults < `--config` (or `LEADROUTER_CONFIG`) < these flags < `LEADROUTER_*`; an error is
    /// printed with its source and exits 78 (EX_CONFIG).
    func resolve(environment: [String: String]) throws -> ServiceConfiguration {
        do {
            return try ServiceConfiguration.resolve(file: config ?? environment["LEADROUTER_CONFIG"], flags: flags, environment: environment)
        } catch let error as ConfigurationError {
            stderrLine("leadrouter: configuration: \(error)")
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}
