import Cryptography
import Essentials
import Foundation
import Postgres

extension Store {
    /// Serialises ruleset writes (numbering, activation) between nodes and requests.
    private func lockRulesets() throws {
        try connection.query("SELECT pg_advisory_xact_lock(7810756212788524405)")
    }

    static let rulesetColumns = """
        version, yaml, checksum, author, note, active, created_at, activated_at, deactivated_at
        """

    static func rulesetVersion(_ row: PostgresRow) throws -> RulesetVersion {
        RulesetVersion(version: try row.decode(Int.self, "version"), yaml: try row.decode(String.self, "yaml"),
                       checksum: try row.decode(String.self, "checksum"), author: try row.decode(String.self, "author"),
                       note: try row.decode(String.self, "note"), active: try row.decode(Bool.self, "active"),
                       createdAt: try row.decode(Date.self, "created_at"), activatedAt: try row.decode(Date?.self, "activated_at"),
                       deactivatedAt: try row.decode(Date?.self, "deactivated_at"))
    }

    /// SHA-256 of a ruleset text, lower-case hex (`rulesets.checksum`).
    public static func rulesetChecksum(_ yaml: String) -> String { Hex.encode(Crypto.sha256(Array(yaml.utf8))) }

    /// Stores `yaml` as a new, inactive version and returns it. The service numbers versions: one
    /// above the highest stored, or the file's `version:` (`declared`) when that is higher, so a
    /// number a team already uses in its files keeps meaning the same text.
    public func storeRuleset(yaml: String, author: String, note: String, declared: Int) throws -> RulesetVersion {
        try lockRulesets()
        let next = max(try connection.query("SELECT coalesce(max(version), 0) + 1 FROM rulesets").scalar(Int.self), declared)
        return try Self.rulesetVersion(connection.query("""
            INSERT INTO rulesets (version, yaml, checksum, author, note, active)
            VALUES (\(next), \(yaml), \(Self.rulesetChecksum(yaml)), \(author), \(note), false)
            RETURNING \(unsafeRaw: Self.rulesetColumns)
            """).first!)
    }

    /// Every stored version, newest first.
    public func rulesetVersions() throws -> [RulesetVersion] {
        try connection.query("SELECT \(unsafeRaw: Self.rulesetColumns) FROM rulesets ORDER BY version DESC").map(Self.rulesetVersion)
    }

    /// One stored version, or nil.
    public func rulesetVersion(_ version: Int) throws -> RulesetVersion? {
        try connection.query("SELECT \(unsafeRaw: Self.rulesetColumns) FROM rulesets WHERE version = \(version)")
            .first.map(Self.rulesetVersion)
    }

    /// The active version, or nil before any was activated.
    public func activeRuleset() throws -> RulesetVersion? {
        try connection.query("SELECT \(unsafeRaw: Self.rulesetColumns) FROM rulesets WHERE active").first.map(Self.rulesetVersion)
    }

    /// The active version's number only (what every node polls as the fallback to NOTIFY).
    public func activeRulesetNumber() throws -> Int? {
        try connection.query("SELECT version FROM rulesets WHERE active").first.map { try $0.decode(Int.self, "version") }
    }

    /// Makes `version` the active one and announces it on `rulesetNotifyChannel` (sent at
    /// COMMIT). Records the activation, whose background re-evaluation supersedes any still
    /// running. Activating the active version changes nothing and returns nil.
    public func activateRuleset(_ version: Int, by: String) throws -> RulesetActivation? {
        try lockRulesets()
        let previous = try activeRulesetNumber()
        guard previous != version else { return nil }
        try connection.execute("UPDATE rulesets SET active = false, deactivated_at = now() WHERE active")
        try connection.execute("UPDATE rulesets SET active = true, activated_at = now() WHERE version = \(version)")
        try connection.execute("""
            UPDATE ruleset_activations SET finished_at = now(), superseded = true WHERE finished_at IS NULL
            """)
        let activation = try Self.activation(connection.query("""
            INSERT INTO ruleset_activations (version, previous_version, activated_by, leads_total, finished_at)
            SELECT \(version), \(previous), \(by), n, CASE WHEN \(previous)::integer IS NULL OR n = 0 THEN now() END
            FROM (SELECT count(*) AS n FROM leads WHERE merged_into IS NULL) c
            RETURNING *
            """).first!)
        try connection.query("SELECT pg_notify(\(rulesetNotifyChannel), \(String(version)))")
        return activation
    }

    static func activation(_ row: PostgresRow) throws -> RulesetActivation {
        RulesetActivation(id: try row.decode(Int64.self, "id"), version: try row.decode(Int.self, "version"),
                          previousVersion: try row.decode(Int?.self, "previous_version"),
                          activatedBy: try row.decode(String.self, "activated_by"), activatedAt: try row.decode(Date.self, "activated_at"),
                          leadsTotal: try row.decode(Int64.self, "leads_total"), reevaluated: try row.decode(Int64.self, "reevaluated"),
                          changed: try row.decode(Int64.self, "changed"), reevaluatedThrough: try row.decode(UUID?.self, "reevaluated_through"),
                          finishedAt: try row.decode(Date?.self, "finished_at"), superseded: try row.decode(Bool.self, "superseded"))
    }

    /// Activations, newest first (`limit` of them).
    public func rulesetActivations(limit: Int = 20) throws -> [RulesetActivation] {
        try connection.query("SELECT * FROM ruleset_activations ORDER BY id DESC LIMIT \(limit)").map(Self.activation)
    }

    /// `serve --rules FILE`: the version to serve for a file's text. The active version when its
    /// text is the same; else a stored version with the same text, activated; else a new version
    /// (`author`, `note`), activated. The flag says whether the active version changed.
    public func adoptRulesetFile(yaml: String, author: String, note: String, declared: Int) throws -> (version: Int, activated: Bool) {
        try lockRulesets()
        let checksum = Self.rulesetChecksum(yaml)
        if let active = try activeRuleset(), active.checksum == checksum, active.yaml == yaml { return (active.version, false) }
        let same = try connection.query("""
            SELECT version FROM rulesets WHERE checksum = \(checksum) AND yaml = \(yaml) ORDER BY version DESC LIMIT 1
            """).first.map { try $0.decode(Int.self, "version") }
        let version = try same ?? storeRuleset(yaml: yaml, author: author, note: note, declared: declared).version
        _ = try activateRuleset(version, by: author)
        return (version, true)
    }

    // MARK: - background re-evaluation

    /// The newest unfinished activation, locked for this transaction (`SKIP LOCKED`: one node
    /// walks it at a time), or nil.
    public func openActivationForUpdate() throws -> RulesetActivation? {
        try connection.query("""
            SELECT * FROM ruleset_activations WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED
            """).first.map(Self.activation)
    }

    /// The next `limit` live, unquarantined leads after `after` in id order, locked.
    public func leadsForReevaluation(after: UUID?, limit: Int) throws -> (records: [LeadRecord], undecodable: [UndecodableLead]) {
        let from = after ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        // leadrouter_lock_leads_after (migration 0082): the one statement on plain PostgreSQL, a
        // lock per lead (one shard each) on Citus.
        return try leadRecords(connection.pipeline([Self.indexPlans, """
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leadrouter_lock_leads_after(\(from), \(limit)::int4) AS leads
            """])[1])
    }

    /// Records a re-evaluation batch: `through` the last lead id done; `finished` when the walk is over.
    public func advanceActivation(_ id: Int64, through: UUID?, reevaluated: Int, changed: Int, finished: Bool) throws {
        try connection.execute("""
            UPDATE ruleset_activations SET reevaluated_through = coalesce(\(through), reevaluated_through),
                   reevaluated = reevaluated + \(reevaluated), changed = changed + \(changed),
                   finished_at = \(unsafeRaw: finished ? "now()" : "NULL")
            WHERE id = \(id)
            """)
    }

    /// Whether the database answers at all (readiness).
    public func ping() throws {
        _ = try connection.query("SELECT 1").scalar(Int.self)
    }
}
