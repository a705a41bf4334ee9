import ArgumentParser
import Foundation
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

    func admin() throws -> RulesetAdmin {
        var logger = Logger(label: "leadrouter")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try database.url()),
                                settings: .init(minConnections: 0, maxConnections: 1, acquireTimeout: 10, idleTimeout: 60), logger: logger)
        return RulesetAdmin(pool: pool, rules: nil, logger: logger)
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
    @OptionGroup var store: RulesVersionStore

    func run() throws {
        switch try store.admin().activate(version, by: RulesVersionStore.operatorName) {
        case .notFound:
            stderrLine("leadrouter: no ruleset version \(version)")
            throw ExitCode(1)
        case .alreadyActive: print("version \(version) is already active")
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
