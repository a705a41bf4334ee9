import ArgumentParser
import Foundation
import HTTPServer
import LeadRouter
import Logging

/// `leadrouter serve`: runs the HTTP server until SIGTERM/SIGINT, then stops gracefully.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API.",
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
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?

    var flags: [String: String] {
        let all: [(String, String?)] = [
            ("host", host), ("port", port), ("event-loops", eventLoops), ("worker-threads", workerThreads),
            ("max-connections", maxConnections), ("tls-certificate", tlsCertificate), ("tls-key", tlsKey),
            ("log-level", logLevel),
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
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "leadrouter")

        var router = HTTPRouter()
        OpsRoutes.install(into: &router, version: LeadrouterVersion.string, readiness: ReadinessChecks())

        // Block SIGTERM/SIGINT before any server thread exists, so only the signalfd sees them.
        let signals = try ShutdownSignals()
        let server = HTTPServer(configuration: settings.server.httpServerConfiguration, router: router, logger: logger)
        do {
            try server.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        let signal = signals.wait()
        logger.info("signal received", metadata: ["signal": "\(signal)"])
        server.shutdown()
        server.waitUntilStopped()
    }
}
