import Foundation
import Postgres

/// A webhook subscription as stored. `secret` is the HMAC key (kept in clear: it is needed to sign).
public struct Subscription: Sendable, Equatable {
    public var id: UUID
    public var url: String
    public var topics: [String]
    /// nil = every segment (see `webhook_matches` in migrations/0004_webhooks.sql).
    public var segments: [String]?
    public var secret: String
    public var description: String?
    /// false pauses delivery: deliveries are still created, and sent once it is active again.
    public var active: Bool
    public var maxAttempts: Int
    public var createdAt: Date
    /// Set when the subscription comes from the configuration file (`webhooks.subscriptions[].name`).
    public var configName: String?
}

/// What `POST /v1/subscriptions` or the configuration file asks for.
public struct NewSubscription: Sendable, Equatable {
    public var url: String
    public var topics: [String]
    public var segments: [String]?
    public var secret: String
    public var description: String?
    public var active: Bool
    public var maxAttempts: Int
    public var configName: String?

    /// A subscription to create or (with `configName`) upsert.
    public init(url: String, topics: [String], segments: [String]?, secret: String, description: String? = nil,
                active: Bool = true, maxAttempts: Int, configName: String? = nil) {
        self.url = url; self.topics = topics; self.segments = segments; self.secret = secret
        self.description = description; self.active = active; self.maxAttempts = maxAttempts; self.configName = configName
    }
}

extension Store {
    static let subscriptionColumns = "id, url, topics, segments, secret, description, active, max_attempts, created_at, config_name"

    static func subscription(_ row: PostgresRow) throws -> Subscription {
        Subscription(id: try row.decode(UUID.self, "id"), url: try row.decode(String.self, "url"),
                     topics: try row.decode([String].self, "topics"), segments: try row.decode([String]?.self, "segments"),
                     secret: try row.decode(String.self, "secret"), description: try row.decode(String?.self, "description"),
                     active: try row.decode(Bool.self, "active"), maxAttempts: try row.decode(Int.self, "max_attempts"),
                     createdAt: try row.decode(Date.self, "created_at"), configName: try row.decode(String?.self, "config_name"))
    }

    /// Creates a subscription (API).
    public func createSubscription(_ new: NewSubscription) throws -> Subscription {
        let rows = try connection.query("""
            INSERT INTO subscriptions (url, topics, segments, secret, description, active, max_attempts, config_name)
            VALUES (\(new.url), \(new.topics), \(new.segments), \(new.secret), \(new.description), \(new.active),
                    \(new.maxAttempts)::integer, \(new.configName))
            RETURNING \(unsafeRaw: Self.subscriptionColumns)
            """)
        return try Self.subscription(rows[0])
    }

    /// Subscriptions not deleted, oldest first.
    public func subscriptions() throws -> [Subscription] {
        try connection.query("""
            SELECT \(unsafeRaw: Self.subscriptionColumns) FROM subscriptions WHERE deleted_at IS NULL ORDER BY created_at, config_name, id
            """).map(Self.subscription)
    }

    /// One subscription not deleted, or nil.
    public func subscription(_ id: UUID) throws -> Subscription? {
        try connection.query("""
            SELECT \(unsafeRaw: Self.subscriptionColumns) FROM subscriptions WHERE id = \(id) AND deleted_at IS NULL
            """).first.map(Self.subscription)
    }

    /// Soft-deletes a subscription: no new deliveries, pending ones are never sent. False when unknown.
    @discardableResult
    public func deleteSubscription(_ id: UUID) throws -> Bool {
        try connection.execute("""
            UPDATE subscriptions SET deleted_at = now(), active = false WHERE id = \(id) AND deleted_at IS NULL
            """) == 1
    }

    /// Makes the configuration-managed subscriptions exactly `configured` (by name): new ones are
    /// created, changed ones updated in place (same id, deliveries kept), missing ones deleted.
    /// Serialised by an advisory lock so several nodes starting at once agree.
    public func syncConfiguredSubscriptions(_ configured: [NewSubscription]) throws {
        try connection.query("SELECT pg_advisory_xact_lock(7810756212788524406)")
        let names = configured.compactMap(\.configName)
        try connection.execute("""
            UPDATE subscriptions SET deleted_at = now(), active = false
            WHERE config_name IS NOT NULL AND deleted_at IS NULL AND NOT (config_name = ANY (\(names)::text[]))
            """)
        for new in configured {
            try connection.execute("""
                INSERT INTO subscriptions (url, topics, segments, secret, description, active, max_attempts, config_name)
                VALUES (\(new.url), \(new.topics), \(new.segments), \(new.secret), \(new.description), \(new.active),
                        \(new.maxAttempts)::integer, \(new.configName))
                ON CONFLICT (config_name) WHERE config_name IS NOT NULL AND deleted_at IS NULL DO UPDATE SET
                    url = excluded.url, topics = excluded.topics, segments = excluded.segments, secret = excluded.secret,
                    description = excluded.description, active = excluded.active, max_attempts = excluded.max_attempts
                """)
        }
    }
}
