import Foundation
import LeadStore
import Postgres

/// The operator's side of webhooks: subscriptions (create, list, delete, replay) and deliveries
/// (list, retry). Runs on the main pool: operator calls are rare.
package struct SubscriptionAdmin: Sendable {
    let pool: PostgresPool

    package init(pool: PostgresPool) { self.pool = pool }

    package func subscriptions() throws -> [Subscription] {
        try pool.withConnection { try Store($0).subscriptions() }
    }

    package func subscription(_ id: UUID) throws -> Subscription? {
        try pool.withConnection { try Store($0).subscription(id) }
    }

    /// Stores a validated subscription; the result carries its signing secret.
    package func create(_ new: NewSubscription) throws -> Subscription {
        try pool.withConnection { try Store($0).createSubscription(new) }
    }

    package enum DeleteOutcome: Sendable, Equatable {
        case deleted
        case notFound
        /// It comes from the configuration file (named so): remove it there.
        case configured(name: String)
    }

    package func delete(_ id: UUID) throws -> DeleteOutcome {
        try pool.withConnection { conn in
            let store = Store(conn)
            guard let found = try store.subscription(id) else { return .notFound }
            if let name = found.configName { return .configured(name: name) }
            _ = try store.deleteSubscription(id)
            return .deleted
        }
    }

    /// Schedules the subscription's matching events since `from` again, in one transaction; the
    /// number scheduled, nil when there is no such subscription.
    package func replay(_ id: UUID, from: Date) throws -> Int? {
        try pool.withTransaction { conn in
            let store = Store(conn)
            guard try store.subscription(id) != nil else { return nil }
            return try store.replay(subscription: id, from: from)
        }
    }

    /// Deliveries, newest first, before the cursor `before` (a delivery id).
    package func deliveries(filter: DeliveryFilter?, subscription: UUID?, limit: Int, before: Int64?) throws -> [DeliveryRecord] {
        try pool.withConnection { try Store($0).deliveries(filter: filter, subscription: subscription, limit: limit, before: before) }
    }

    package enum RetryOutcome: Sendable {
        case retried(DeliveryRecord)
        case notFound
        /// Only dead or failed deliveries are retried; this one's status.
        case notRetryable(status: String)
    }

    package func retry(_ id: Int64) throws -> RetryOutcome {
        try pool.withConnection { conn in
            let store = Store(conn)
            if let retried = try store.retryDelivery(id) { return .retried(retried) }
            guard let existing = try store.delivery(id) else { return .notFound }
            return .notRetryable(status: existing.status)
        }
    }
}
