import Essentials
import HTTPAPI

/// `rate_limits.*` (429 per API key and per client address), `database.statement_timeout`,
/// `database.read_max_lag` and `database.commit_wait`.
extension ConfigurationKey {
    static let limitKeys: [ConfigurationKey] = [
        rate("rate_limits.per_key.rate", "LEADROUTER_RATE_LIMIT_KEY_RATE") { $0.rateLimits.perKey.rate = $1 },
        integer("rate_limits.per_key.burst", "LEADROUTER_RATE_LIMIT_KEY_BURST", 1...100_000_000) {
            $0.rateLimits.perKey.burst = Double($1)
        },
        rate("rate_limits.per_peer.rate", "LEADROUTER_RATE_LIMIT_PEER_RATE") { $0.rateLimits.perPeer.rate = $1 },
        integer("rate_limits.per_peer.burst", "LEADROUTER_RATE_LIMIT_PEER_BURST", 1...100_000_000) {
            $0.rateLimits.perPeer.burst = Double($1)
        },
        integer("rate_limits.max_tracked", "LEADROUTER_RATE_LIMIT_MAX_TRACKED", 1_024...10_000_000) { $0.rateLimits.maxTracked = $1 },
        text("database.statement_timeout", "LEADROUTER_DATABASE_STATEMENT_TIMEOUT") { c, v throws(ValueError) in
            if v == "0" { c.statementTimeout = nil; return }
            guard let seconds = parseDuration(v), seconds >= 0.001, seconds <= 3600 else {
                throw ValueError(message: "expected a duration like 500ms, 5s or 1m (at most 1h), or 0 for none, got \"\(v)\"")
            }
            c.statementTimeout = seconds
        },
        duration("database.read_max_lag", "LEADROUTER_DATABASE_READ_MAX_LAG", max: 3600) { $0.readMaxLag = $1 },
        duration("database.commit_wait", "LEADROUTER_DATABASE_COMMIT_WAIT", max: 3600) { $0.commitWait = $1 },
    ]

    /// Requests per second: a non-negative number (decimals allowed); 0 turns the limit off.
    static func rate(_ path: String, _ env: String,
                     _ set: @escaping @Sendable (inout ServiceConfiguration, Double) -> Void) -> ConfigurationKey {
        ConfigurationKey(path: path, environment: env, flag: nil) { c, v throws(ValueError) in
            guard let n = Double(v.replacingOccurrences(of: "_", with: "")), n.isFinite, n >= 0, n <= 100_000_000 else {
                throw ValueError(message: "expected requests per second (0 = no limit), got \"\(v)\"")
            }
            set(&c, n)
        }
    }
}
