import Essentials
import Ingest
import Privacy

/// `retention.*` and `ingest.idempotency_window` (docs/privacy.md#retention).
extension ConfigurationKey {
    static let privacyKeys: [ConfigurationKey] = [
        flag("retention.enabled", "LEADROUTER_RETENTION_ENABLED") { $0.retention.enabled = $1 },
        duration("retention.interval", "LEADROUTER_RETENTION_INTERVAL", max: 7 * 86_400) { $0.retention.interval = $1 },
        duration("retention.events", "LEADROUTER_RETENTION_EVENTS", max: 36_500 * 86_400) { $0.retention.events = $1 },
        text("retention.archive_dir", "LEADROUTER_RETENTION_ARCHIVE_DIR") { c, v in c.retention.archiveDirectory = v.isEmpty ? nil : v },
        duration("retention.deliveries", "LEADROUTER_RETENTION_DELIVERIES", max: 36_500 * 86_400) { $0.retention.deliveries = $1 },
        duration("retention.decisions", "LEADROUTER_RETENTION_DECISIONS", max: 36_500 * 86_400) { $0.retention.decisions = $1 },
        duration("retention.membership_history", "LEADROUTER_RETENTION_MEMBERSHIP_HISTORY", max: 36_500 * 86_400) {
            $0.retention.membershipHistory = $1
        },
        duration("retention.stage_history", "LEADROUTER_RETENTION_STAGE_HISTORY", max: 36_500 * 86_400) { $0.retention.stageHistory = $1 },
        duration("retention.insight_counts", "LEADROUTER_RETENTION_INSIGHT_COUNTS", max: 36_500 * 86_400) { $0.retention.insightCounts = $1 },
        duration("ingest.idempotency_window", "LEADROUTER_IDEMPOTENCY_WINDOW", max: 3_650 * 86_400) { $0.retention.idempotencyWindow = $1 },
        text("retention.context_ip", "LEADROUTER_RETENTION_CONTEXT_IP") { c, v throws(ValueError) in
            guard let policy = ContextIPPolicy(rawValue: v) else {
                throw ValueError(message: "expected truncate, drop or keep, got \"\(v)\"")
            }
            c.contextIP = policy
        },
    ]

    /// `true` or `false`.
    static func flag(_ path: String, _ env: String, _ set: @escaping @Sendable (inout ServiceConfiguration, Bool) -> Void) -> ConfigurationKey {
        ConfigurationKey(path: path, environment: env, flag: nil) { c, v throws(ValueError) in
            guard let flag = ["true": true, "false": false][v] else { throw ValueError(message: "expected true or false, got \"\(v)\"") }
            set(&c, flag)
        }
    }
}
