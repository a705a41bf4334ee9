import Foundation
import LeadStore
import Logging
import Postgres
import RulesTools
import Segmentation

/// Ruleset versions as an operator manages them (`/v1/rulesets`, `leadrouter rules push|history|
/// activate`): store a checked text as a new immutable version, list and read versions, and
/// activate one — which switches this node at once and every other node through
/// `RulesetWatcher`. Rollback is activating an older version.
public final class RulesetAdmin: Sendable {
    public let pool: PostgresPool
    /// This node's engine, switched by an activation (nil for the CLI, which serves nothing).
    let rules: ActiveEngine?
    let logger: Logger
    /// An activation whose version's last backtest moves more than this share of the leads'
    /// routing needs `confirm` (`rulesets.confirm_above`).
    let confirmAbove: Double

    public init(pool: PostgresPool, rules: ActiveEngine?, confirmAbove: Double = 0.1, logger: Logger) {
        self.pool = pool; self.rules = rules; self.confirmAbove = confirmAbove; self.logger = logger
    }

    /// A text `rules check` refuses; the report has every diagnostic with its line and column.
    public struct Invalid: Error {
        public let report: RulesCheckReport
        public var summary: String { report.summary }
        public var diagnostics: [Diagnostic] { report.items }
    }

    /// What an activation did.
    public enum Activation: Sendable {
        case notFound
        /// The version is already the active one; nothing changed.
        case alreadyActive(RulesetVersion)
        case activated(RulesetVersion, RulesetActivation)
        /// The last backtest says `share` of the leads' routing moves (above `confirmAbove`);
        /// activate again with `confirm`.
        case needsConfirmation(share: Double)
    }

    /// The name diagnostics of a pushed text are reported under (no file behind it).
    public static let pushedFileName = "yaml"

    /// Checks `yaml` exactly as `leadrouter rules check` does (throws `Invalid`) and stores it as a
    /// new inactive version by `author` (an API key's name) with `note`.
    public func push(yaml: String, note: String, author: String) throws -> RulesetVersion {
        let report = RulesCheckReport(yaml: yaml, fileName: Self.pushedFileName)
        guard let loaded = report.loaded else { throw Invalid(report: report) }
        let stored = try pool.withTransaction { conn in
            try Store(conn).storeRuleset(yaml: yaml, author: author, note: note, declared: loaded.ruleset.version)
        }
        logger.info("ruleset version stored", metadata: ["ruleset.version": "\(stored.version)", "author": "\(author)"])
        return stored
    }

    public func versions() throws -> [RulesetVersion] { try pool.withConnection { try Store($0).rulesetVersions() } }

    public func version(_ number: Int) throws -> RulesetVersion? { try pool.withConnection { try Store($0).rulesetVersion(number) } }

    /// Recent activations with their re-evaluation progress, newest first.
    public func activations(limit: Int = 20) throws -> [RulesetActivation] {
        try pool.withConnection { try Store($0).rulesetActivations(limit: limit) }
    }

    /// Activates `number` (by `by`, a key's name): the teams of its `teams:` are synced in the
    /// same transaction, the other nodes are notified at commit, and this node switches now.
    public func activate(_ number: Int, by: String, confirm: Bool = false) throws -> Activation {
        let outcome: Activation = try pool.withTransaction { conn in
            let store = Store(conn)
            guard let stored = try store.rulesetVersion(number) else { return .notFound }
            if !confirm, !stored.active, let share = try store.lastBacktestRoutingShare(version: number), share > confirmAbove {
                return .needsConfirmation(share: share)
            }
            let engine = try Self.engine(for: stored)
            guard let activation = try store.activateRuleset(number, by: by) else { return .alreadyActive(stored) }
            try store.syncTeams(engine.ruleset.teams)
            return .activated(stored, activation)
        }
        if case .activated(let stored, let activation) = outcome {
            let engine = try Self.engine(for: stored)
            Self.prepareToServe(engine, pool: pool, logger: logger)
            rules?.replace(with: engine)
            logger.info("ruleset version activated", metadata: [
                "ruleset.version": "\(number)", "ruleset.previous": "\(activation.previousVersion.map(String.init) ?? "none")", "by": "\(by)"])
        }
        return outcome
    }

    /// The semantic difference from version `from` to version `to`; nil when either is not stored.
    public func diff(from: Int, to: Int) throws -> RulesetDiff? {
        guard let old = try version(from), let new = try version(to) else { return nil }
        return try RulesetDiff(old: old.yaml, new: new.yaml, oldName: "v\(from)", newName: "v\(to)")
    }

    /// Queues a backtest of version `number` over `[from, to)` (`sample` of the leads); nil when
    /// the version is not stored. A node's `JobRunner` runs it.
    public func backtest(_ number: Int, from: Date, to: Date, sample: Double, by: String) throws -> JobRecord? {
        try pool.withTransaction { conn in
            let store = Store(conn)
            guard try store.rulesetVersion(number) != nil else { return nil }
            let params = try PostgresJSON(encoding: BacktestParams(version: number, from: from, to: to, sample: sample))
            return try store.createJob(kind: "backtest", params: params, by: by)
        }
    }

    public func job(_ id: UUID) throws -> JobRecord? { try pool.withConnection { try Store($0).job(id) } }

    public func cancelJob(_ id: UUID) throws -> JobRecord? { try pool.withConnection { try Store($0).cancelJob(id) } }

    /// A stored version compiled, decisions numbered with the stored version. A version stored
    /// by an older binary that this one refuses throws `Invalid`.
    public static func engine(for stored: RulesetVersion) throws -> Engine {
        let report = RulesCheckReport(yaml: stored.yaml, fileName: "ruleset v\(stored.version)")
        guard let loaded = report.loaded else { throw Invalid(report: report) }
        return Engine(loaded.ruleset.numbered(stored.version))
    }

    /// Readies this node to serve `engine`: stores its ruleset's signal dictionary, so the lead
    /// states it writes are packed with it (migrations/0103). A failure is logged and costs only
    /// bytes: the states are then packed without a dictionary.
    public static func prepareToServe(_ engine: Engine, pool: PostgresPool, logger: Logger) {
        do {
            try pool.storeSignalDictionary(of: engine.ruleset)
        } catch {
            logger.warning("signal dictionary not stored: lead states are packed without it",
                           metadata: ["ruleset.version": "\(engine.ruleset.version)", "error": "\(error)"])
        }
    }

    /// The note of a file `serve --rules` adopts: `--note` when given, else a first line
    /// `# note: …`, else one naming the file.
    public static func fileNote(yaml: String, flag: String?, fileName: String) -> String {
        if let flag, !flag.isEmpty { return flag }
        let first = yaml.prefix { $0 != "\n" }.trimmingCharacters(in: .whitespaces)
        if first.hasPrefix("#") {
            let text = first.dropFirst().trimmingCharacters(in: .whitespaces)
            if text.lowercased().hasPrefix("note:") {
                let note = text.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if !note.isEmpty { return note }
            }
        }
        return "served from \(fileName)"
    }
}
