import Foundation
import LeadStore
import Logging
import OutboundHTTP
import Postgres
import Segmentation

extension WebhookDelivery {
    /// A configured subscription names a segment the active ruleset does not have, or a URL
    /// whose host is not public while `webhooks.allow_private_networks` is off.
    public struct ConfigurationRejected: Error, CustomStringConvertible {
        public var description: String
    }

    /// What `LeadRouterApp` does at start: applies the configuration file's subscriptions
    /// (checked against the active ruleset) and builds the delivery machinery, not yet running.
    package static func prepare(databaseURL: String, settings: WebhookSettings, engine: Engine, pool: PostgresPool,
                                logger: Logger) throws -> WebhookDelivery {
        if let configured = settings.subscriptions {
            let known = Set(engine.ruleset.segments.map(\.name))
            let destinations = settings.destinationPolicy
            for subscription in configured {
                if let url = OutboundURL(subscription.url), let problem = destinations.problem(with: url) {
                    throw ConfigurationRejected(description: "webhooks.subscriptions \(subscription.configName ?? "?"): url: \(problem)")
                }
                for segment in subscription.segments ?? [] where !known.contains(segment) {
                    throw ConfigurationRejected(description: "webhooks.subscriptions \(subscription.configName ?? "?"): "
                                                + "segment '\(segment)' is not in the active ruleset")
                }
            }
            try pool.withTransaction { try Store($0).syncConfiguredSubscriptions(configured) }
        }
        return try WebhookDelivery(databaseURL: databaseURL, settings: settings, logger: logger)
    }
}
