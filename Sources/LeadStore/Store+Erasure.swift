import Foundation
import JSONCoding
import Postgres

/// The leads one erasure covers: the lead that answers for the requested id and every lead
/// merged into it (at any depth), since merges moved their identities and events to it.
public struct MergeGroup: Sendable, Equatable {
    public var liveLeadId: UUID
    public var leadIds: [UUID]
}

/// A lead's tombstone (`erased_leads`): what is left to say about an erased lead.
public struct ErasedLead: Sendable {
    public var leadId: UUID
    public var erasureId: UUID
    public var liveLeadId: UUID
    public var erasedAt: Date
    public var suppressed: Bool
    /// Rows erased or redacted per kind (numbers only).
    public var counts: [String: Int]

    public init(leadId: UUID, erasureId: UUID, liveLeadId: UUID, erasedAt: Date, suppressed: Bool, counts: [String: Int]) {
        self.leadId = leadId; self.erasureId = erasureId; self.liveLeadId = liveLeadId
        self.erasedAt = erasedAt; self.suppressed = suppressed; self.counts = counts
    }
}

extension Store {
    /// The merge group of `id` (nil when there is no such lead): the end of its `merged_into`
    /// chain and everything merged into that end.
    public func mergeGroup(of id: UUID) throws -> MergeGroup? {
        // leadrouter_merge_group: the recursive CTE on plain PostgreSQL, a query per level on
        // Citus (migrations/0078).
        let rows = try connection.query("SELECT id, live_id FROM leadrouter_merge_group(\(id)) ORDER BY id")
        guard let first = rows.first else { return nil }
        return MergeGroup(liveLeadId: try first.decode(UUID.self, "live_id"), leadIds: try rows.map { try $0.decode(UUID.self, "id") })
    }

    /// The identity keys held by any of `leads`.
    public func identities(ofAny leads: [UUID]) throws -> [IdentityKey] {
        try connection.query("SELECT kind, value FROM identities WHERE lead_id = ANY(\(leads)) ORDER BY kind, value").compactMap { row in
            guard let kind = IdentityKey.Kind(rawValue: try row.decode(String.self, "kind")) else { return nil }
            return IdentityKey(kind, try row.decode(String.self, "value"))
        }
    }

    /// Takes the advisory locks ingest takes for `keys` (same hashes, ascending order), so no
    /// message of these keys is between resolution and commit while they are erased.
    public func lockIdentityKeys(_ keys: [IdentityKey]) throws {
        let hashes = Array(Set(keys.map(\.hash))).sorted()
        guard !hashes.isEmpty else { return }
        _ = try connection.query("SELECT pg_advisory_xact_lock(k) FROM unnest(\(hashes)::int8[]) AS t(k) ORDER BY k")
    }

    /// Locks the rows of `leads` (`FOR UPDATE`, id order, as ingest locks them; one lead per
    /// statement on Citus: `leadrouter_lock_leads`, migration 0082).
    public func lockLeadRows(_ leads: [UUID]) throws {
        _ = try connection.query("SELECT id FROM leadrouter_lock_leads(\(leads)::uuid[])")
    }

    /// Lets the statements of this transaction run up to `seconds` each (`SET LOCAL`, after the
    /// pool's shorter write-path timeout): an erasure rewrites every event of a long history in
    /// one statement, and failing it half-way helps no one.
    public func allowLongStatements(seconds: Int) throws {
        _ = try connection.query("SELECT set_config('statement_timeout', \(String(seconds * 1000)), true)")
    }

    /// The tombstone of `lead`, if it was erased.
    public func erasedLead(_ lead: UUID) throws -> ErasedLead? {
        guard let row = try connection.query("""
            SELECT lead_id, erasure_id, live_lead_id, erased_at, suppressed, counts FROM erased_leads WHERE lead_id = \(lead)
            """).first else { return nil }
        let stored = try row.decode(PostgresJSON.self, "counts")
        let counts = (try? JSONSerialization.jsonObject(with: Data(stored.bytes))) as? [String: Int] ?? [:]
        return ErasedLead(leadId: try row.decode(UUID.self, "lead_id"), erasureId: try row.decode(UUID.self, "erasure_id"),
                          liveLeadId: try row.decode(UUID.self, "live_lead_id"), erasedAt: try row.decode(Date.self, "erased_at"),
                          suppressed: try row.decode(Bool.self, "suppressed"), counts: counts)
    }

    /// Erases the personal data of a locked merge group in one round trip and leaves its
    /// tombstone; returns the counts. Kept, so that metrics, segment sizes and reports stay
    /// consistent: the lead rows (id, stage, status, score, band, customer, owner, times), the
    /// events' id, type, kind, time and message id, decisions' segments and actions, membership
    /// entries and exits (an exit with reason `erased` is recorded for every current membership),
    /// queue items' states, outbox and delivery rows. Removed or blanked: profile columns,
    /// traits, sources, signal state, identities (hashed into `suppressed_identities` first when
    /// `suppress`), event messages, explanations, idempotency answers, queue notes, assignments
    /// and history, outbox payloads, deliveries not yet delivered, quarantine entries.
    /// `notice` is queued as the group's last outbox row (`lead.erased`).
    public func eraseGroup(_ group: MergeGroup, erasureId: UUID, suppress: Bool, at now: Date,
                           notice: (_ counts: [String: Int]) -> OutboxMessage) throws -> [String: Int] {
        let ids = group.leadIds
        let redacted = #"{"erased": true}"#
        let countRows = try connection.query("""
            SELECT (SELECT count(*) FROM identities WHERE lead_id = ANY(\(ids))) AS identities,
                   (SELECT count(*) FROM events WHERE lead_id = ANY(\(ids))) AS events,
                   (SELECT count(*) FROM decisions WHERE lead_id = ANY(\(ids))) AS decisions,
                   (SELECT count(*) FROM memberships WHERE lead_id = ANY(\(ids))) AS memberships,
                   (SELECT count(*) FROM membership_history WHERE lead_id = ANY(\(ids))) AS membership_history,
                   (SELECT count(*) FROM queue_items WHERE lead_id = ANY(\(ids))) AS queue_items,
                   (SELECT count(*) FROM outbox WHERE lead_id = ANY(\(ids))) AS outbox,
                   (SELECT count(*) FROM deliveries WHERE lead_id = ANY(\(ids)) AND status <> 'delivered') AS undelivered,
                   (SELECT count(*) FROM processed_messages WHERE lead_id = ANY(\(ids))) AS processed_messages
            """)
        var counts: [String: Int] = ["leads": ids.count]
        if let row = countRows.first {
            for name in ["identities", "events", "decisions", "memberships", "membership_history", "queue_items", "outbox",
                         "undelivered", "processed_messages"] {
                counts[name] = try row.decode(Int.self, name)
            }
        }
        var w = JSONWriter()
        w.object(counts) { w, n in w.int(n) }
        let countsJSON = w.json
        var queries: [PostgresQuery] = [
            """
            INSERT INTO suppressed_identities (hash, kind, erasure_id, created_at)
            SELECT leadrouter_identity_hash(kind, value), kind, \(erasureId), \(now) FROM identities
            WHERE \(suppress) AND lead_id = ANY(\(ids)) AND kind IN ('email', 'user_id', 'anonymous_id')
            ON CONFLICT (hash) DO NOTHING
            """,
            "DELETE FROM identities WHERE lead_id = ANY(\(ids))",
            "UPDATE events SET message = \(unsafeRaw: "'\(redacted)'")::jsonb, message_packed = NULL WHERE lead_id = ANY(\(ids))",
            """
            WITH h AS (
                INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
                SELECT lead_id, segment, 'exited', '{"erased": true}'::jsonb, ruleset_version, NULL, \(now)
                FROM memberships WHERE lead_id = ANY(\(ids))
                RETURNING *)
            \(unsafeRaw: Self.segmentDeltasOfH)
            """,
            "DELETE FROM memberships WHERE lead_id = ANY(\(ids))",
            Self.stageErasureQuery(ids, at: now),
            "UPDATE membership_history SET reason = \(unsafeRaw: "'\(redacted)'")::jsonb, reason_packed = NULL WHERE lead_id = ANY(\(ids))",
            """
            UPDATE leads SET email = NULL, user_id = NULL, country = NULL, region = NULL, ship_to_region = NULL,
                company_domain = NULL, company_size = NULL, company_industry = NULL, company_tech_stack = NULL,
                traits = '{}', source_first = NULL, source_last = NULL, signal_state = NULL, score_parts = '{}', action_state = NULL, action_packed = NULL,
                primary_segment = NULL, segment_entered = '{}', next_evaluation_at = NULL,
                erased_at = \(now), updated_at = \(now)
            WHERE id = ANY(\(ids))
            """,
            // Packed decisions come back as jsonb first, so one statement strips every explanation.
            unpackDecisionsQuery(try packedDecisions(of: ids)),
            """
            UPDATE decisions SET decision = (decision - 'explanation') || \(unsafeRaw: "'\(redacted)'")::jsonb
            WHERE lead_id = ANY(\(ids))
            """,
            "UPDATE processed_messages SET response = NULL WHERE lead_id = ANY(\(ids))",
            """
            UPDATE queue_items SET note = NULL, history = '[]', assignment = '{}', skipped_packed = NULL, updated_at = \(now),
                state = 'closed', close_reason = coalesce(close_reason, 'cancelled'), closed_at = coalesce(closed_at, \(now)),
                claim_token = NULL, lease_until = NULL
            WHERE lead_id = ANY(\(ids))
            """,
            // Nothing more about this person is sent: undelivered deliveries go, and outbox rows
            // not dispatched yet are taken off the dispatcher's list before their payloads blank.
            "DELETE FROM deliveries WHERE lead_id = ANY(\(ids)) AND status <> 'delivered'",
            // The pending row carries its outbox row's lead (0075): no lookup through outbox.
            "DELETE FROM outbox_pending WHERE lead_id = ANY(\(ids))",
            """
            UPDATE outbox SET payload = ('{"lead_id": "' || lead_id::text || '", "erased": true}')::jsonb
            WHERE lead_id = ANY(\(ids))
            """,
            "DELETE FROM quarantined_leads WHERE lead_id = ANY(\(ids))",
            """
            INSERT INTO erased_leads (lead_id, erasure_id, live_lead_id, erased_at, suppressed, counts)
            SELECT id, \(erasureId), \(group.liveLeadId), \(now), \(suppress), \(countsJSON) FROM unnest(\(ids)::uuid[]) AS t(id)
            """,
        ]
        if let notice = appendOutboxQuery([notice(counts)]) { queries.append(notice) }
        try run(queries)
        return counts
    }

    /// Adds `key` to the suppression list by hand (no erasure): messages carrying it are dropped
    /// from now on. True when it was not listed yet.
    public func suppress(_ key: IdentityKey, at now: Date) throws -> Bool {
        try connection.execute("""
            INSERT INTO suppressed_identities (hash, kind, created_at)
            VALUES (leadrouter_identity_hash(\(key.kind.rawValue), \(key.value)), \(key.kind.rawValue), \(now))
            ON CONFLICT (hash) DO NOTHING
            """) == 1
    }

    /// Takes `key` off the suppression list: a new message carrying it starts a new lead. True
    /// when it was listed.
    public func unsuppress(_ key: IdentityKey) throws -> Bool {
        try connection.execute("DELETE FROM suppressed_identities WHERE hash = leadrouter_identity_hash(\(key.kind.rawValue), \(key.value))") == 1
    }

    /// Counts messages dropped because they carried a suppressed identity (one statement).
    public func countSuppressedDropsQuery(_ keys: [IdentityKey], at now: Date) -> PostgresQuery {
        """
        UPDATE suppressed_identities SET dropped = dropped + 1, last_dropped_at = \(now)
        WHERE hash IN (SELECT leadrouter_identity_hash(k, v)
                       FROM unnest(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.value))::text[]) AS t(k, v))
        """
    }

    /// The statement that finds which of `keys` are suppressed (ingest's first round trip).
    func suppressedKeysQuery(_ keys: [IdentityKey]) -> PostgresQuery {
        """
        SELECT k.kind, k.value FROM unnest(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.value))::text[]) AS k(kind, value)
        JOIN suppressed_identities s ON s.hash = leadrouter_identity_hash(k.kind, k.value)
        """
    }

    static func decodeKeys(_ rows: PostgresRows) throws -> Set<IdentityKey> {
        var keys = Set<IdentityKey>()
        for row in rows {
            guard let kind = IdentityKey.Kind(rawValue: try row.decode(String.self, "kind")) else { continue }
            keys.insert(IdentityKey(kind, try row.decode(String.self, "value")))
        }
        return keys
    }
}
