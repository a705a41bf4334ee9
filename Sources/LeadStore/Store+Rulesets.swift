import Cryptography
import Foundation
import Postgres

extension Store {
    /// Records the ruleset this node serves as the active one, under the version its YAML
    /// declares (decisions carry that number). Several nodes starting at once are serialised by
    /// an advisory lock; the same text again changes nothing but the active flag.
    public func activateRuleset(version: Int, yaml: String, author: String, note: String) throws {
        try connection.query("SELECT pg_advisory_xact_lock(7810756212788524405)")
        let checksum = Crypto.sha256(Array(yaml.utf8)).map { String(format: "%02x", $0) }.joined()
        try connection.execute("UPDATE rulesets SET active = false WHERE active AND version <> \(version)")
        try connection.execute("""
            INSERT INTO rulesets (version, yaml, checksum, author, note, active, activated_at)
            VALUES (\(version), \(yaml), \(checksum), \(author), \(note), true, now())
            ON CONFLICT (version) DO UPDATE SET yaml = excluded.yaml, checksum = excluded.checksum, active = true,
                activated_at = CASE WHEN rulesets.active THEN rulesets.activated_at ELSE now() END
            """)
    }

    /// Whether the database answers at all (readiness).
    public func ping() throws {
        _ = try connection.query("SELECT 1").scalar(Int.self)
    }
}
