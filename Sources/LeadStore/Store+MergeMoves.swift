import Foundation
import Postgres

/// How a merge moves the loser's rows to the survivor: a copy under the survivor's id and a
/// delete of the original, in the merge's transaction, keeping each row's id. Not an
/// `UPDATE … SET lead_id`: on Citus `lead_id` places the row on its shard and cannot be
/// updated (migrations/0077, docs/scale-out.md). On plain PostgreSQL the copy costs what the
/// update did: a new row version and its index entries, the old one marked dead.
extension Store {
    /// The statements that move the loser's not-closed queue item (at most one, the
    /// `queue_items_one_open_per_lead` index). `survivorHasOne`: the statement that cancels it
    /// when the survivor has one already (one open item per person); else the one that moves it
    /// to the survivor, with a `lead_merged` history entry. Run in that order; the insert
    /// carries the owner to the survivor's row (the owner triggers of migrations/0011).
    static func moveQueueItemsQuery(_ loser: UUID, into survivor: UUID, survivorHasOne: Bool) -> PostgresQuery {
        if survivorHasOne {
            return """
                UPDATE queue_items SET state = 'closed', close_reason = 'cancelled', closed_at = now(), lease_until = NULL, updated_at = now()
                WHERE lead_id = \(loser) AND state <> 'closed'
                  AND EXISTS (SELECT 1 FROM queue_items s WHERE s.lead_id = \(survivor) AND s.state <> 'closed')
                """
        }
        return """
            WITH moved AS (
                DELETE FROM queue_items WHERE lead_id = \(loser) AND state <> 'closed'
                RETURNING \(unsafeRaw: queueItemCopiedColumns), history)
            INSERT INTO queue_items (lead_id, updated_at, history, \(unsafeRaw: queueItemCopiedColumns))
            SELECT \(survivor), now(), history || jsonb_build_array(jsonb_build_object('at', now(), 'event', 'lead_merged', 'from_lead', \(loser)::text)),
                   \(unsafeRaw: queueItemCopiedColumns)
            FROM moved
            """
    }

    /// The columns of a queue item a merge copies as they are (all but lead_id, updated_at, history).
    static let queueItemCopiedColumns = """
        id, queue, segment, team_id, owner_id, state, priority, claim_token, claimed_by, lease_until, sla_due_at,
        close_reason, attempts, created_at, closed_at, assigned_by, assignment, skipped_packed, first_claimed_at, sla_breached_at, outcome, note
        """

    /// The statement that moves every event of `losers` to `survivor`.
    static func moveEventsQuery(from losers: [UUID], to survivor: UUID) -> PostgresQuery {
        """
        WITH moved AS (
            DELETE FROM events WHERE lead_id = ANY(\(losers))
            RETURNING id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message, message_packed)
        INSERT INTO events (id, lead_id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message, message_packed)
        SELECT id, \(survivor), occurred_at, received_at, kind, type, name, message_id, write_key_id, message, message_packed FROM moved
        """
    }
}
