/// The scalar keys of the `webhooks:` section (the `subscriptions` list is read by
/// `ServiceConfiguration.applySubscriptions`).
extension ConfigurationKey {
    static let webhookKeys: [ConfigurationKey] = [
        text("webhooks.enabled", "LEADROUTER_WEBHOOKS_ENABLED") { c, v throws(ValueError) in
            guard let flag = ["true": true, "false": false][v] else { throw ValueError(message: "expected true or false, got \"\(v)\"") }
            c.webhooks.enabled = flag
        },
        integer("webhooks.workers", "LEADROUTER_WEBHOOKS_WORKERS", 1...256) { $0.webhooks.workers = $1 },
        integer("webhooks.database_connections", "LEADROUTER_WEBHOOKS_DATABASE_CONNECTIONS", 1...64) { $0.webhooks.databaseConnections = $1 },
        duration("webhooks.poll_interval", "LEADROUTER_WEBHOOKS_POLL_INTERVAL") { $0.webhooks.pollInterval = $1 },
        duration("webhooks.connect_timeout", "LEADROUTER_WEBHOOKS_CONNECT_TIMEOUT") { $0.webhooks.timeouts.connect = $1 },
        duration("webhooks.response_timeout", "LEADROUTER_WEBHOOKS_RESPONSE_TIMEOUT") { $0.webhooks.timeouts.response = $1 },
        duration("webhooks.retry.backoff_base", "LEADROUTER_WEBHOOKS_BACKOFF_BASE") { $0.webhooks.backoffBase = $1 },
        duration("webhooks.retry.backoff_cap", "LEADROUTER_WEBHOOKS_BACKOFF_CAP") { $0.webhooks.backoffCap = $1 },
        integer("webhooks.retry.max_attempts", "LEADROUTER_WEBHOOKS_MAX_ATTEMPTS", 1...100) { $0.webhooks.maxAttempts = $1 },
        duration("webhooks.retry.max_age", "LEADROUTER_WEBHOOKS_MAX_AGE", max: 30 * 86_400) { $0.webhooks.maxAge = $1 },
        text("webhooks.tls.ca_file", "LEADROUTER_WEBHOOKS_CA_FILE") { $0.webhooks.caFile = $1 },
        text("webhooks.allow_private_networks", "LEADROUTER_WEBHOOKS_ALLOW_PRIVATE_NETWORKS") { c, v throws(ValueError) in
            guard let flag = ["true": true, "false": false][v] else { throw ValueError(message: "expected true or false, got \"\(v)\"") }
            c.webhooks.allowPrivateNetworks = flag
        },
    ]
}
