import ArgumentParser
import Embedded
import Foundation
import HTTPServer
import LeadRouterService
import Logging
import Postgres
import RulesTools

/// What `serve` and `dev` share: logging set-up, the ruleset file, starting the service and
/// stopping it on SIGTERM/SIGINT.
enum ServiceRunner {
    static func bootstrapLogging(level: String, format: String = "text") -> Logger {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            if format == "json" {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = parsed
                return handler
            }
            // One line per entry, whatever a message or metadata value carries.
            var handler = OneLineLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = parsed
            return handler
        }
        return Logger(label: "leadrouter")
    }

    /// The ruleset file `path` when given; else `config/segments.yaml` when it exists here (a
    /// checkout), else the sample built into the binary (a binary copied alone, the container).
    static func ruleset(_ path: String?, logger: Logger) throws -> (yaml: String, name: String) {
        if let path { return (try readRules(path), path) }
        let local = "config/segments.yaml"
        if FileManager.default.fileExists(atPath: local) { return (try readRules(local), local) }
        logger.notice("no --rules and no ./config/segments.yaml: serving the sample ruleset built into the binary")
        return (EmbeddedFiles.sampleRules, EmbeddedFiles.sampleRulesName)
    }

    /// The migrations of `directory` when given, else the ones built into the binary.
    static func migrations(_ directory: String?) -> MigrationSource {
        directory.map { .directory(URL(fileURLWithPath: $0, isDirectory: true)) } ?? .embedded(EmbeddedFiles.migrations)
    }

    static func readRules(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            stderrLine("leadrouter: cannot read the ruleset \(path): \(error.localizedDescription)")
            throw ExitCode(66)  // EX_NOINPUT
        }
    }

    /// Builds the app; a ruleset with errors is printed as `rules check` prints it and exits 1.
    static func makeApp(_ options: LeadRouterApp.Options, logger: Logger) throws -> LeadRouterApp {
        do {
            return try LeadRouterApp(options: options, logger: logger)
        } catch let rejected as LeadRouterApp.RulesetRejected {
            for line in rejected.report.diagnostics { stderrLine(line) }
            stderrLine(rejected.report.summary)
            stderrLine("leadrouter: not starting: the ruleset has errors")
            throw ExitCode(1)
        }
    }

    /// Serves until SIGTERM/SIGINT, then stops gracefully. `signals` must be created before any
    /// thread starts (threads inherit the blocked signal mask).
    static func serve(_ app: LeadRouterApp, signals: ShutdownSignals, logger: Logger,
                      onStarted: (LeadRouterApp) throws -> Void = { _ in }) throws {
        do {
            try app.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            app.stop()
            throw ExitCode.failure
        }
        logger.info("serving", metadata: ["port": "\(app.port ?? 0)", "ruleset.version": "\(app.engine.ruleset.version)"])
        do { try onStarted(app) } catch { app.stop(); throw error }
        let signal = signals.wait()
        logger.info("signal received", metadata: ["signal": "\(signal)"])
        app.stop()
    }
}

/// One line on standard error.
func stderrLine(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
