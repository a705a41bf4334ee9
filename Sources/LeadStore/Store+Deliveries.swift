import Foundation
import Postgres

/// A delivery a worker holds a lease on: everything needed to send it, and the attempt number
/// that fences the result (a late worker whose lease was retaken cannot overwrite it).
public struct LeasedDelivery: Sendable {
    public var id: Int64
    public var subscriptionId: UUID
    public var outboxId: Int64
    public var leadId: UUID
    /// This attempt's number (1 for the first).
    public var attempt: Int
    public var url: String
    public var secret: String
    public var maxAttempts: Int
    public var topic: String
    /// The outbox payload as JSON text (the event's `data`).
    public var payload: [UInt8]
    /// When the change happened (the outbox row's time): the event's `created_at`.
    public var createdAt: Date
    /// Start of the max-age window.
    public var windowStartedAt: Date
}

/// A 2xx answer to record: the delivery, the attempt that got it (the fence) and its status.
public struct DeliveredOutcome: Sendable, Equatable {
    public var id: Int64
    public var attempt: Int
    public var httpStatus: Int
    public init(id: Int64, attempt: Int, httpStatus: Int) { self.id = id; self.attempt = attempt; self.httpStatus = httpStatus }
}

/// A delivery as `GET /v1/deliveries` shows it.
public struct DeliveryRecord: Sendable {
    public var id: Int64
    public var subscriptionId: UUID
    public var outboxId: Int64
    public var leadId: UUID
    public var topic: String
    /// pending, in_flight, delivered or dead (pending with a last error = failed, retrying).
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var lastStatus: Int?
    public var deliveredAt: Date?
    public var createdAt: Date
}

/// Which deliveries `GET /v1/deliveries` lists.
public enum DeliveryFilter: String, Sendable, CaseIterable {
    /// Attempted and not delivered yet, waiting for the next attempt.
    case failed
    /// Gave up (max attempts or max age): only a manual retry or a replay sends it again.
    case dead
    case pending
    case delivered
}

extension Store {
    /// Turns up to `limit` undispatched outbox rows (their ids in `outbox_pending`) into
    /// deliveries for every matching subscription, in outbox order, and takes them off
    /// `outbox_pending`. Only one node dispatches at a time (a transaction advisory lock; the
    /// others return 0 at once), so deliveries of one lead are always created in outbox order.
    /// Run inside a transaction. Returns how many outbox rows it dispatched.
    ///
    /// Planned for index lookups (`indexPlans`): a generic plan cached while the outbox was
    /// nearly empty joined the batch to `outbox` by scanning the whole table (hundreds of
    /// milliseconds a dispatch once it held 100 000 rows). The outbox rows are fetched by
    /// primary key from the array of the batch's ids, whatever the estimates.
    public func dispatchOutbox(limit: Int) throws -> Int {
        guard try connection.query("SELECT pg_try_advisory_xact_lock(7810756212788524407)").scalar(Bool.self) else { return 0 }
        return try connection.pipeline([Self.indexPlans, """
            WITH batch AS (
                DELETE FROM outbox_pending WHERE outbox_id IN (
                    SELECT outbox_id FROM outbox_pending ORDER BY outbox_id LIMIT \(limit))
                RETURNING outbox_id
            ), created AS (
                INSERT INTO deliveries (subscription_id, outbox_id, lead_id)
                SELECT s.id, o.id, o.lead_id FROM outbox o
                JOIN subscriptions s ON s.deleted_at IS NULL AND webhook_matches(s.topics, s.segments, o.topic, o.payload)
                WHERE o.id = ANY(ARRAY(SELECT outbox_id FROM batch))
                ORDER BY o.id
                ON CONFLICT (subscription_id, outbox_id, lead_id) DO NOTHING
            )
            SELECT count(*) FROM batch
            """])[1].scalar(Int.self)
    }

    /// In-flight deliveries whose lease ran out (their worker died or hung) become pending again.
    public func reclaimExpiredLeases() throws -> Int {
        try connection.execute("""
            UPDATE deliveries SET status = 'pending', lease_until = NULL, next_attempt_at = now()
            WHERE status = 'in_flight' AND lease_until < now()
            """)
    }

    /// Leases up to `limit` due deliveries for `leaseSeconds`, skipping rows another node holds
    /// (`FOR UPDATE SKIP LOCKED`) and any delivery that has an earlier pending or in-flight one of
    /// the same subscription and lead (per-lead order). Each lease counts as an attempt. The
    /// statement is in `leadrouter_lease_deliveries` (migrations/0076), which on Citus leases
    /// each row with a statement of its own (one shard each), and which plans for index lookups
    /// (migrations/0121, as `indexPlans`): plpgsql caches its plan per connection, and one made
    /// while `deliveries` was empty scanned the table for every candidate until an ANALYZE.
    public func leaseDeliveries(limit: Int, leaseSeconds: Double) throws -> [LeasedDelivery] {
        try connection.query("""
            SELECT * FROM leadrouter_lease_deliveries(\(limit)::integer, \(leaseSeconds)::double precision)
            """).map { row in
            LeasedDelivery(id: try row.decode(Int64.self, "id"), subscriptionId: try row.decode(UUID.self, "subscription_id"),
                           outboxId: try row.decode(Int64.self, "outbox_id"), leadId: try row.decode(UUID.self, "lead_id"),
                           attempt: try row.decode(Int.self, "attempts"), url: try row.decode(String.self, "url"),
                           secret: try row.decode(String.self, "secret"), maxAttempts: try row.decode(Int.self, "max_attempts"),
                           topic: try row.decode(String.self, "topic"), payload: Array(try row.decode(String.self, "payload").utf8),
                           createdAt: try row.decode(Date.self, "created_at"),
                           windowStartedAt: try row.decode(Date.self, "window_started_at"))
        }
    }

    /// Records a 2xx. False when the lease was lost meanwhile (another node retook it).
    @discardableResult
    public func markDelivered(_ id: Int64, attempt: Int, httpStatus: Int) throws -> Bool {
        try connection.execute("""
            UPDATE deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL,
                                  last_status = \(httpStatus)::integer, last_error = NULL
            WHERE id = \(id) AND status = 'in_flight' AND attempts = \(attempt)::integer
            """) == 1
    }

    /// Records many 2xx answers in one statement (`DeliveredBatch`); returns how many were still
    /// leased (the others were retaken meanwhile and are left to their new lease).
    @discardableResult
    public func markDelivered(_ batch: [DeliveredOutcome]) throws -> Int {
        guard !batch.isEmpty else { return 0 }
        return try connection.execute("""
            UPDATE deliveries d SET status = 'delivered', delivered_at = now(), lease_until = NULL,
                                    last_status = l.status, last_error = NULL
            FROM unnest(\(batch.map(\.id))::bigint[], \(batch.map(\.attempt))::integer[], \(batch.map(\.httpStatus))::integer[])
                 AS l(id, attempt, status)
            WHERE d.id = l.id AND d.status = 'in_flight' AND d.attempts = l.attempt
            """)
    }

    /// Records a failed attempt: pending again after `retryInSeconds`, or dead when `retryInSeconds`
    /// is nil (max attempts or max age reached). False when the lease was lost meanwhile.
    @discardableResult
    public func markFailed(_ id: Int64, attempt: Int, httpStatus: Int?, error: String, retryInSeconds: Double?) throws -> Bool {
        try connection.execute("""
            UPDATE deliveries SET lease_until = NULL, last_status = \(httpStatus), last_error = \(String(error.prefix(500))),
                status = CASE WHEN \(retryInSeconds)::float8 IS NULL THEN 'dead' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => coalesce(\(retryInSeconds)::float8, 0))
            WHERE id = \(id) AND status = 'in_flight' AND attempts = \(attempt)::integer
            """) == 1
    }
}

extension Store {
    /// Gives back leases that were never attempted (a node stopping): pending again at once,
    /// the attempt not counted. Fenced by the attempt number like the outcomes.
    public func releaseLeases(_ leases: [(id: Int64, attempt: Int)]) throws {
        guard !leases.isEmpty else { return }
        try connection.execute("""
            UPDATE deliveries d SET status = 'pending', attempts = d.attempts - 1, lease_until = NULL, next_attempt_at = now()
            FROM unnest(\(leases.map(\.id))::bigint[], \(leases.map(\.attempt))::integer[]) AS l(id, attempt)
            WHERE d.id = l.id AND d.status = 'in_flight' AND d.attempts = l.attempt
            """)
    }
}
