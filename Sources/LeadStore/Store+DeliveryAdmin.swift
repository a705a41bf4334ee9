import Foundation
import Postgres

/// What the operator API does with deliveries: list, retry one, replay a subscription.
extension Store {
    static let deliveryColumns = """
        d.id, d.subscription_id, d.outbox_id, d.lead_id, o.topic, d.status, d.attempts, d.next_attempt_at,
        d.last_error, d.last_status, d.delivered_at, d.created_at
        """

    static func delivery(_ row: PostgresRow) throws -> DeliveryRecord {
        DeliveryRecord(id: try row.decode(Int64.self, "id"), subscriptionId: try row.decode(UUID.self, "subscription_id"),
                       outboxId: try row.decode(Int64.self, "outbox_id"), leadId: try row.decode(UUID.self, "lead_id"),
                       topic: try row.decode(String.self, "topic"), status: try row.decode(String.self, "status"),
                       attempts: try row.decode(Int.self, "attempts"), nextAttemptAt: try row.decode(Date.self, "next_attempt_at"),
                       lastError: try row.decode(String?.self, "last_error"), lastStatus: try row.decode(Int?.self, "last_status"),
                       deliveredAt: try row.decode(Date?.self, "delivered_at"), createdAt: try row.decode(Date.self, "created_at"))
    }

    /// Deliveries newest first, optionally of one status class and one subscription; `before`
    /// is the cursor (a delivery id).
    public func deliveries(filter: DeliveryFilter?, subscription: UUID?, limit: Int, before: Int64?) throws -> [DeliveryRecord] {
        let status: String?
        switch filter {
        case .failed?, .pending?: status = "pending"
        case .dead?: status = "dead"
        case .delivered?: status = "delivered"
        case nil: status = nil
        }
        let failedOnly: Bool? = filter == .failed ? true : (filter == .pending ? false : nil)
        return try connection.query("""
            SELECT \(unsafeRaw: Self.deliveryColumns) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id AND o.lead_id = d.lead_id
            WHERE (\(status)::text IS NULL OR d.status = \(status))
              AND (\(failedOnly)::boolean IS NULL OR (d.attempts > 0) = \(failedOnly))
              AND (\(subscription)::uuid IS NULL OR d.subscription_id = \(subscription))
              AND (\(before)::bigint IS NULL OR d.id < \(before))
            ORDER BY d.id DESC LIMIT \(limit)
            """).map(Self.delivery)
    }

    /// One delivery, or nil.
    public func delivery(_ id: Int64) throws -> DeliveryRecord? {
        try connection.query("""
            SELECT \(unsafeRaw: Self.deliveryColumns) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id AND o.lead_id = d.lead_id WHERE d.id = \(id)
            """).first.map(Self.delivery)
    }

    /// Makes a dead or failed delivery due now with a fresh attempt budget and max-age window.
    /// Nil when there is no such delivery or it is delivered or in flight (the caller says why).
    public func retryDelivery(_ id: Int64) throws -> DeliveryRecord? {
        let changed = try connection.execute("""
            UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), window_started_at = now(),
                                  lease_until = NULL
            WHERE id = \(id) AND status IN ('dead', 'pending')
            """)
        return changed == 1 ? try delivery(id) : nil
    }

    /// Sends again every message since `from` that matches the subscription (its topics and
    /// segments now): deliveries that exist are reset to pending (unless in flight), missing ones
    /// are created. Returns how many deliveries are now pending because of it. The reset takes
    /// its times from the inserted row (`EXCLUDED`, the transaction's now()): Citus allows only
    /// immutable functions in `DO UPDATE SET`.
    public func replay(subscription: UUID, from: Date) throws -> Int {
        try connection.execute("""
            INSERT INTO deliveries (subscription_id, outbox_id, lead_id, next_attempt_at, window_started_at)
            SELECT s.id, o.id, o.lead_id, now(), now() FROM outbox o
            JOIN subscriptions s ON s.id = \(subscription) AND s.deleted_at IS NULL
            WHERE o.created_at >= \(from) AND webhook_matches(s.topics, s.segments, o.topic, o.payload)
            ORDER BY o.id
            ON CONFLICT (subscription_id, outbox_id, lead_id) DO UPDATE SET
                status = 'pending', attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at,
                window_started_at = EXCLUDED.window_started_at, lease_until = NULL,
                delivered_at = NULL, last_error = NULL, last_status = NULL
            WHERE deliveries.status <> 'in_flight'
            """)
    }
}
