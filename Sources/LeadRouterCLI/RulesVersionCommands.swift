import ArgumentParser
import Foundation
import LeadRouterService
import LeadStore
import Logging
import Postgres
import RulesTools
import Rulesets
import Segmentation

/// `rules push|history|activate` work on the versions stored in the database (DATABASE_URL), as
/// `POST /v1/rulesets` and its siblings do; `rules diff` compares files or stored versions.
/// See docs/rulesets.md.
struct RulesVersionStore: ParsableArguments {
    @OptionGroup var database: KeysDatabaseOptions
    @Option(help: "The servers' configuration file (default: $LEADROUTER_CONFIG): `rules activate` reads rulesets.confirm_above from it, `rules backtest` rulesets.backtest_workers, as the servers do.")
    var config: String?

    /// `rulesets.confirm_above` as the servers resolve it, so the CLI's guard is the API's.
    func confirmAbove() throws -> Double { try settings().confirmAbove }

    /// The `rulesets:` settings as the servers resolve them (defaults < the file < `LEADROUTER_*`);
    /// a bad setting exits 78 (EX_CONFIG).
    func settings() throws -> RulesetSettings {
        let environment = ProcessInfo.processInfo.environment
        do {
            return try ServiceConfiguration.resolve(file: config ?? environment["LEADROUTER_CONFIG"], flags: [:], environment: environment)
                .rulesets
        } catch let error as ConfigurationError {
            stderrLine("leadrouter: configuration: \(error)")
            throw ExitCode(78)  // EX_CONFIG
        }
    }

    func admin(confirmAbove: Double = RulesetSettings().confirmAbove) throws -> RulesetAdmin {
        var logger = Logger(label: "leadrouter")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try database.url()),
                                settings: .init(minConnections: 0, maxConnections: 1, acquireTimeout: 10, idleTimeout: 60), logger: logger)
        return RulesetAdmin(pool: pool, rules: nil, confirmAbove: confirmAbove, logger: logger)
    }

    /// Who the CLI records as author and activator: `cli:<user>`.
    static var operatorName: String { "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")" }
}

/// `leadrouter rules push FILE --note TEXT`: stores the file as a new (inactive) version.
struct RulesPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Store a ruleset file as a new version (checked as `rules check`; not activated).")

    @Argument(help: "The ruleset YAML file.") var file: String
    @Option(help: "Why this version (required).") var note: String
    @OptionGroup var store: RulesVersionStore

    func run() throws {
        let yaml = try readText(file)
        do {
            let stored = try store.admin().push(yaml: yaml, note: note, author: RulesVersionStore.operatorName)
            print("stored version \(stored.version) (not active; `leadrouter rules activate \(stored.version)`)")
        } catch let invalid as RulesetAdmin.Invalid {
            for item in invalid.diagnostics { stderrLine(item.description.replacingOccurrences(of: RulesetAdmin.pushedFileName + ":", with: file + ":")) }
            stderrLine(invalid.summary.replacingOccurrences(of: RulesetAdmin.pushedFileName + ":", with: file + ":"))
            throw ExitCode(1)
        }
    }
}

/// `leadrouter rules history`: every stored version, newest first, and recent activations.
struct RulesHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "List the stored ruleset versions and recent activations.")

    @OptionGroup var store: RulesVersionStore

    func run() throws {
        let admin = try store.admin()
        for v in try admin.versions() {
            let activeMark = v.active ? "*" : " "
            print("\(activeMark) v\(v.version)  \(Timestamp(v.createdAt))  \(v.author)  \(v.checksum.prefix(12))  \(v.note)")
        }
        for a in try admin.activations(limit: 5) {
            let state = a.superseded ? "superseded" : a.finishedAt == nil ? "running" : "done"
            print("activation \(a.id): v\(a.previousVersion.map(String.init) ?? "-") → v\(a.version) by \(a.activatedBy) at \(Timestamp(a.activatedAt)); "
                  + "re-evaluation \(state), \(a.reevaluated)/\(a.leadsTotal) leads, \(a.changed) changed")
        }
    }
}

/// `leadrouter rules activate V`: makes version V the active one on every node.
struct RulesActivateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate", abstract: "Activate a stored version on every node (a rollback activates an older one).")

    @Argument(help: "The version number.") var version: Int
    @Flag(help: "Activate even when its last backtest moves more than rulesets.confirm_above of the leads' routing.")
    var confirm = false
    @OptionGroup var store: RulesVersionStore

    func run() throws {
        switch try store.admin(confirmAbove: try store.confirmAbove()).activate(version, by: RulesVersionStore.operatorName, confirm: confirm) {
        case .notFound:
            stderrLine("leadrouter: no ruleset version \(version)")
            throw ExitCode(1)
        case .alreadyActive: print("version \(version) is already active")
        case .needsConfirmation(let share):
            stderrLine("leadrouter: the last backtest of version \(version) moves \(Int((share * 100).rounded())) % of the leads' routing; add --confirm")
            throw ExitCode(1)
        case .activated(_, let activation):
            print("version \(version) active (was \(activation.previousVersion.map { "v\($0)" } ?? "none")); "
                  + "\(activation.leadsTotal) leads to re-evaluate in the background")
        }
    }
}

/// `leadrouter rules diff A B`: what changes from A to B, each a file or a stored version number.
struct RulesDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show what changes from ruleset A to B (files, or version numbers from the database).")

    @Argument(help: "A file, or a stored version number.") var from: String
    @Argument(help: "A file, or a stored version number.") var to: String
    @OptionGroup var store: RulesVersionStore

    func run() throws {
        let diff: RulesetDiff
        do {
            diff = try RulesetDiff(old: try text(from), new: try text(to), oldName: from, newName: to)
        } catch let error as RulesetLoadError {
            stderrLine(error.formatted)
            throw ExitCode(1)
        }
        print(diff.lines.joined(separator: "\n"))
    }

    /// A number that is not an existing file is a stored version.
    func text(_ argument: String) throws -> String {
        if let number = Int(argument), !FileManager.default.fileExists(atPath: argument) {
            guard let stored = try store.admin().version(number) else {
                stderrLine("leadrouter: no ruleset version \(number)")
                throw ExitCode(1)
            }
            return stored.yaml
        }
        return try readText(argument)
    }
}

/// `leadrouter rules backtest FILE|V --from T --to T [--sample S]`: replays the stored events of
/// the period through the candidate and the active version here, in this process (no server
/// needed, nothing written), with a progress bar on standard error; prints the report as JSON.
struct RulesBacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest", abstract: "Replay stored events through a candidate ruleset and the active one; report what would differ.")

    @Argument(help: "A ruleset file, or a stored version number.") var candidate: String
    @Option(help: "Start of the period (RFC 3339).") var from: String
    @Option(help: "End of the period, exclusive (RFC 3339).") var to: String
    @Option(help: "Share of the leads to replay, more than 0 and at most 1 (deterministic by lead id).") var sample = 1.0
    @Option(help: "Replay threads (default: rulesets.backtest_workers, whose 0 is one per core); the report is the same for any number.")
    var workers: Int?
    @OptionGroup var store: RulesVersionStore

    func run() throws {
        guard let from = Timestamp.parse(from)?.date, let to = Timestamp.parse(to)?.date, from < to else {
            throw ValidationError("--from and --to must be RFC 3339 times, --from first")
        }
        guard sample > 0, sample <= 1 else { throw ValidationError("--sample must be more than 0 and at most 1") }
        guard (workers ?? 1) >= 1 else { throw ValidationError("--workers must be at least 1") }
        let admin = try store.admin()
        guard let active = try admin.versions().first(where: \.active) else {
            stderrLine("leadrouter: no active ruleset version to compare with")
            throw ExitCode(1)
        }
        // The candidate compiled again for each further worker (`Backtest.compileEngines`).
        let engine: Engine, compileCandidate: @Sendable () throws -> Engine
        if let number = Int(candidate), !FileManager.default.fileExists(atPath: candidate) {
            guard let stored = try admin.version(number) else {
                stderrLine("leadrouter: no ruleset version \(number)")
                throw ExitCode(1)
            }
            engine = try RulesetAdmin.engine(for: stored)
            compileCandidate = { try RulesetAdmin.engine(for: stored) }
        } else {
            let yaml = try readText(candidate), fileName = candidate
            let report = RulesCheckReport(yaml: yaml, fileName: fileName)
            guard let loaded = report.loaded else {
                for line in report.diagnostics { stderrLine(line) }
                stderrLine(report.summary)
                throw ExitCode(1)
            }
            engine = Engine(loaded.ruleset)
            compileCandidate = {
                guard let loaded = RulesCheckReport(yaml: yaml, fileName: fileName).loaded else { throw ValidationError("\(fileName) no longer loads") }
                return Engine(loaded.ruleset)
            }
        }
        var backtest = Backtest(candidate: engine, active: try RulesetAdmin.engine(for: active), from: from, to: to, sample: sample)
        backtest.compileEngines = { (try compileCandidate(), try RulesetAdmin.engine(for: active)) }
        let report = try JobRunner.run(backtest, pool: admin.pool, workers: try workers ?? store.settings().workers) { share in
            let width = 40, done = Int(share * Double(width))
            FileHandle.standardError.write(Data(("\r[" + String(repeating: "#", count: done) + String(repeating: " ", count: width - done)
                + "] \(Int(share * 100)) %").utf8))
            return true
        }
        stderrLine("\r[" + String(repeating: "#", count: 40) + "] 100 %")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
