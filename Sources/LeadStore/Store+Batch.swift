import Essentials
import Foundation
import JSONCoding
import Postgres
import Segmentation

/// A message of a write key, as idempotency knows it.
package struct ProcessedKey: Hashable, Sendable {
    var writeKey: UUID
    var messageId: String

    package init(writeKey: UUID, messageId: String) {
        self.writeKey = writeKey; self.messageId = messageId
    }
}

/// What a lane batch learns in its first round trip.
package struct BatchStart {
    /// Answers already given to messages of the batch.
    package var processed: [ProcessedKey: ProcessedMessage]
    /// The lead each known identity key of the batch points to.
    package var found: [IdentityKey: UUID]
    /// Those leads' rows, locked (`FOR UPDATE`, in id order).
    package var locked: [LeadRecord]
    /// Those of the rows (locked too) that do not decode: the messages resolving to them fail alone.
    package var undecodable: [UndecodableLead] = []
    /// Keys of the batch that are suppressed: messages carrying one are dropped.
    package var suppressed: Set<IdentityKey> = []
}

extension Store {
    /// One round trip for the start of a lane batch: advisory locks on every identity key of the
    /// batch (in key order, in one statement, so lanes and nodes taking overlapping sets queue
    /// instead of deadlocking), then — seeing every earlier writer of those keys — the answers
    /// already given to the batch's message ids, the leads of its keys, and those lead rows
    /// locked (`FOR UPDATE` in id order, one statement).
    /// It is `transaction`'s first round trip, so the transaction's BEGIN goes out in it too.
    package func lockCheckAndResolve(batchKeys keys: [IdentityKey], messages: [ProcessedKey], in transaction: PostgresTransaction) throws -> BatchStart {
        transaction.add(Self.ingestPlansAndLocks(keys))
        var processed: PostgresResultHandle<[ProcessedKey: ProcessedMessage]>?
        if !messages.isEmpty {
            processed = transaction.add("""
                SELECT p.write_key_id, p.message_id, \(unsafeRaw: Self.processedColumns) FROM processed_messages p
                JOIN unnest(\(messages.map(\.writeKey))::uuid[], \(messages.map(\.messageId))::text[]) AS m(w, id)
                  ON p.write_key_id = m.w AND p.message_id = m.id
                """) { rows in
                var processed: [ProcessedKey: ProcessedMessage] = [:]
                for row in rows {
                    let key = ProcessedKey(writeKey: try row.decode(UUID.self, "write_key_id"), messageId: try row.decode(String.self, "message_id"))
                    processed[key] = try Self.decodeProcessed(row)
                }
                return processed
            }
        }
        var found: PostgresResultHandle<[IdentityKey: UUID]>?
        var locked: PostgresResultHandle<PostgresRows>?
        var suppressed: PostgresResultHandle<Set<IdentityKey>>?
        if !keys.isEmpty {
            found = transaction.add(resolveQuery(keys), decode: Self.decodeResolved)
            suppressed = transaction.add(suppressedKeysQuery(keys), decode: Self.decodeKeys)
            locked = transaction.add("""
                SELECT \(unsafeRaw: LeadRecord.columns)
                FROM leadrouter_lock_leads_of(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.value))::text[]) AS leads
                """)
        }
        try transaction.send()
        // Decoded here, not in the pipeline: a row may name a signal dictionary to read first.
        let leads = try locked.map { try leadRecords($0.get()) } ?? (records: [], undecodable: [])
        var records = try processed?.get() ?? [:]
        if let query = Self.storedDecisionsQuery(Array(records.values)) {
            let decisions = transaction.add(query)
            try transaction.send()
            let rows = try decisions.get()
            records = try records.mapValues { try Self.withStoredDecision($0, rows) }
        }
        return BatchStart(processed: records, found: try found?.get() ?? [:], locked: leads.records,
                          undecodable: leads.undecodable, suppressed: try suppressed?.get() ?? [])
    }

    /// One statement per table for everything staged, in an order that respects the foreign
    /// keys (lead rows first). Each statement binds ONE jsonb document of all its rows, written
    /// by `JSONWriter` (cheaper to build and bind than a dozen typed arrays); timestamps travel
    /// as epoch microseconds, exactly as a bound `Date` would.
    /// `plansSet`: the transaction ran `ingestPlans` already (its settings hold until COMMIT),
    /// so `indexPlans` is not sent again — one statement fewer per lane transaction.
    func stagedWriteQueries(_ w: StagedWrites, plansSet: Bool = false) -> [PostgresQuery] {
        guard !w.isEmpty else { return [] }
        var queries: [PostgresQuery] = plansSet ? [] : [Self.indexPlans]
        if let insert = leadInsertQuery(w) { queries.append(insert) }
        if !w.identities.isEmpty {
            let rows = Self.rows(w.identities) { j, f, i in
                j.member("kind", first: &f); j.string(i.key.kind.rawValue)
                j.member("value", first: &f); j.string(i.key.value)
                j.member("lead_id", first: &f); j.uuid(i.leadId)
            }
            queries.append("""
                INSERT INTO identities (kind, value, lead_id)
                SELECT kind, value, lead_id FROM jsonb_to_recordset(\(rows)) AS x(kind text, value text, lead_id uuid)
                ON CONFLICT (kind, value) DO NOTHING
                """)
        }
        if !w.leadOrder.isEmpty { queries += leadSaveQueries(w) }
        if !w.events.isEmpty {
            let rows = Self.rows(w.events) { j, f, e in
                j.member("id", first: &f); j.uuid(e.id)
                j.member("lead_id", first: &f); j.uuid(e.leadId)
                j.member("occurred_at", first: &f); j.micros(e.occurredAt)
                j.member("received_at", first: &f); j.micros(e.receivedAt)
                j.member("kind", first: &f); j.string(e.kind)
                j.member("type", first: &f); j.string(e.type)
                if let v = e.name { j.member("name", first: &f); j.string(v) }
                if let v = e.messageId { j.member("message_id", first: &f); j.string(v) }
                if let v = e.writeKeyId { j.member("write_key_id", first: &f); j.uuid(v) }
                j.member("message_packed", first: &f); j.hex(PackedJSON.packMessage(e.message))
            }
            queries.append("""
                INSERT INTO events (id, lead_id, occurred_at, received_at, kind, type, name, message_id, write_key_id, message_packed)
                SELECT id, lead_id, \(unsafeRaw: Self.at("occurred_at")), \(unsafeRaw: Self.at("received_at")), kind, type, name,
                       message_id, write_key_id, decode(message_packed, 'hex')
                FROM jsonb_to_recordset(\(rows)) AS x(id uuid, lead_id uuid, occurred_at int8, received_at int8, kind text, type text,
                                                       name text, message_id text, write_key_id uuid, message_packed text)
                """)
        }
        // Before the history: an exit in the same batch is then not counted as a drop-off.
        if !w.goals.isEmpty {
            let rows = Self.rows(w.goals) { j, f, g in
                j.member("l", first: &f); j.uuid(g.leadId)
                j.member("s", first: &f); j.string(g.segment)
                j.member("e", first: &f); j.micros(g.enteredAt)
                j.member("r", first: &f); j.micros(g.reachedAt)
            }
            queries.append("""
                WITH g AS (
                    INSERT INTO segment_goal_reached (lead_id, segment, entered_at, reached_at)
                    SELECT l, s, \(unsafeRaw: Self.at("e")), \(unsafeRaw: Self.at("r"))
                    FROM jsonb_to_recordset(\(rows)) AS x(l uuid, s text, e int8, r int8)
                    ON CONFLICT DO NOTHING RETURNING lead_id, segment, entered_at)
                \(unsafeRaw: Self.segmentGoalDeltasOfG)
                """)
        }
        if !w.experiments.isEmpty { queries += Self.experimentQueries(w.experiments) }
        if !w.history.isEmpty {
            let rows = Self.rows(w.history) { j, f, h in
                j.member("l", first: &f); j.uuid(h.leadId)
                j.member("s", first: &f); j.string(h.change.segment)
                j.member("c", first: &f); j.string(h.change.change)
                if let r = h.change.reason { j.member("z", first: &f); j.string(Hex.encode(PackedJSON.pack(r))) }
                j.member("v", first: &f); j.int(h.rulesetVersion)
                if let e = h.eventId { j.member("e", first: &f); j.uuid(e) }
                j.member("t", first: &f); j.micros(h.at)
            }
            queries.append("""
                WITH h AS (
                    INSERT INTO membership_history (lead_id, segment, change, reason_packed, ruleset_version, event_id, occurred_at)
                    SELECT (r ->> 'l')::uuid, r ->> 's', r ->> 'c', decode(r ->> 'z', 'hex'), (r ->> 'v')::int, (r ->> 'e')::uuid,
                           \(unsafeRaw: Self.at("(r ->> 't')::int8"))
                    FROM jsonb_array_elements(\(rows)) WITH ORDINALITY AS e(r, n) ORDER BY n
                    RETURNING *)
                \(unsafeRaw: Self.segmentDeltasOfH)
                """)
        }
        queries += stageWriteQueries(w.stages)
        if !w.decisions.isEmpty {
            let rows = Self.rows(w.decisions) { j, f, d in
                j.member("id", first: &f); j.uuid(d.id)
                j.member("l", first: &f); j.uuid(d.leadId)
                if let e = d.eventId { j.member("e", first: &f); j.uuid(e) }
                j.member("v", first: &f); j.int(d.rulesetVersion)
                j.member("t", first: &f); j.micros(d.evaluatedAt)
                j.member("q", first: &f); j.int(d.seq)
                if let a = d.answers {
                    j.member("pw", first: &f); j.uuid(a.writeKey)
                    j.member("pm", first: &f); j.string(a.messageId)
                }
                j.member("z", first: &f); j.string(Hex.encode(PackedJSON.pack(d.document)))
            }
            // The idempotency records answering with a decision point at its row (no second copy
            // of the document), from the same parsed rows. Documents and reasons travel and are
            // stored packed (`PackedJSON`, migrations/0060).
            queries.append("""
                WITH d AS MATERIALIZED (SELECT r, n FROM jsonb_array_elements(\(rows)) WITH ORDINALITY AS e(r, n)),
                inserted AS (
                    INSERT INTO decisions (id, lead_id, event_id, ruleset_version, evaluated_at, seq, packed)
                    SELECT (r ->> 'id')::uuid, (r ->> 'l')::uuid, (r ->> 'e')::uuid, (r ->> 'v')::int,
                           \(unsafeRaw: Self.at("(r ->> 't')::int8")), (r ->> 'q')::int8, decode(r ->> 'z', 'hex')
                    FROM d ORDER BY n)
                INSERT INTO processed_messages (write_key_id, message_id, lead_id, event_id, decision_id)
                SELECT (r ->> 'pw')::uuid, r ->> 'pm', (r ->> 'l')::uuid, (r ->> 'e')::uuid, (r ->> 'id')::uuid
                FROM d WHERE r ? 'pw' ORDER BY n
                """)
        }
        if let outbox = appendOutboxQuery(w.outbox) { queries.append(outbox) }
        if !w.processed.isEmpty {
            let rows = Self.rows(w.processed) { j, f, p in
                j.member("write_key_id", first: &f); j.uuid(p.writeKey)
                j.member("message_id", first: &f); j.string(p.messageId)
                j.member("lead_id", first: &f); j.uuid(p.answer.leadId)
                j.member("event_id", first: &f); j.uuid(p.answer.eventId)
                if let r = p.answer.response { j.member("response", first: &f); j.append(json: r) }
            }
            queries.append("""
                INSERT INTO processed_messages (write_key_id, message_id, lead_id, event_id, response)
                SELECT write_key_id, message_id, lead_id, event_id, response
                FROM jsonb_to_recordset(\(rows)) AS x(write_key_id uuid, message_id text, lead_id uuid, event_id uuid, response jsonb)
                """)
        }
        return queries
    }

    /// Makes the rest of the transaction plan row lookups by index, never by scanning a table or
    /// hashing it. The write path's statements are prepared once per connection and their generic
    /// plan is cached; made while a fresh database is nearly empty (before autovacuum analysed
    /// it), that plan scanned `identities` (2.5 ms per lookup) and hash-joined `leads` (17 ms per
    /// batch update) once the tables held 100 000 rows. Planned with these settings, every
    /// generic plan of the write path is an index lookup whatever the tables' statistics — and,
    /// unlike `force_custom_plan`, nothing is planned again per execution (that was half of
    /// PostgreSQL's time for a one-message batch). Sent first in every transaction that runs them.
    ///
    /// JIT is turned off with them: a plan that must keep a node these settings disable (a scan
    /// of a table with no usable index, such as `subscriptions`) costs 10^10 and so crosses
    /// `jit_above_cost` — and compiling it took about 350 ms for a statement that runs in one.
    static var indexPlans: PostgresQuery { "SELECT \(unsafeRaw: indexPlanSettings)" }

    /// The settings of `indexPlans`, as `set_config` calls (transaction-local).
    static let indexPlanSettings = """
        set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true),
        set_config('enable_mergejoin', 'off', true), set_config('jit', 'off', true)
        """

    /// `indexPlans`, and on a Citus coordinator lets this transaction's multi-shard writes run
    /// alongside other transactions' (`citus.enable_deadlock_prevention` off: a multi-shard
    /// UPDATE or INSERT … SELECT then takes the shard's executor lock in RowExclusive mode instead
    /// of ShareUpdateExclusive, which conflicts with itself until COMMIT). With it on, every lane
    /// batch whose leads span several shards waited for every other such batch to commit: the
    /// cluster ran one ingest transaction at a time (docs/scale-out.md#capacity-model). What that
    /// lock prevents cannot happen here: the statements write only the rows of leads this
    /// transaction locked first, in id order (`leadrouter_lock_leads_of`), and new identities
    /// behind the identity keys' advisory locks; should two transactions still wait on each other
    /// across shards, Citus's distributed deadlock detection cancels one and the lane retries.
    /// Sent first by the ingest transactions (`lockCheckAndResolve`); on plain PostgreSQL the
    /// setting is an unused placeholder.
    static var ingestPlans: PostgresQuery {
        "SELECT \(unsafeRaw: ingestPlanSettings)"
    }

    /// The settings of `ingestPlans`, as `set_config` calls (transaction-local).
    static let ingestPlanSettings = "\(indexPlanSettings), set_config('citus.enable_deadlock_prevention', 'off', true)"

    /// The first statement of an ingest transaction: `ingestPlans` and the advisory locks on the
    /// identity keys' hashes, taken in hash order (volatile calls run after the sort), so lanes
    /// and nodes taking overlapping sets queue instead of deadlocking. One statement, not two:
    /// every statement of a lane transaction costs PostgreSQL its executor start-up
    /// (docs/benchmarks/ingest.md, 2026-12-08 "pg-stmts"). The reads that must see every earlier
    /// writer of these keys stay in statements of their own after it: a statement's snapshot is
    /// taken before it waits for a lock.
    static func ingestPlansAndLocks(_ keys: [IdentityKey]) -> PostgresQuery {
        let hashes = Array(Set(keys.map(\.hash))).sorted()
        guard !hashes.isEmpty else { return ingestPlans }
        return """
            SELECT \(unsafeRaw: ingestPlanSettings),
                   (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(\(hashes)::int8[]) AS t(k) ORDER BY k) AS l) AS locked
            """
    }

    /// An idempotency record `p`: its own copy of the answer (records written before 0006,
    /// answers that are not a stored decision) or the decision row it points at, which
    /// `storedDecisionsQuery` reads. Not a join: on Citus an idempotency record is on the shard of
    /// its message id and the decision on its lead's (docs/scale-out.md#citus-keys-and-placement).
    static let processedColumns = "p.lead_id, p.event_id, p.response, p.decision_id"

    static func decodeProcessed(_ row: PostgresRow) throws -> ProcessedMessage {
        ProcessedMessage(leadId: try row.decode(UUID.self, "lead_id"), eventId: try row.decode(UUID.self, "event_id"),
                         response: try row.decode(PostgresJSON?.self, "response"), decisionId: try row.decode(UUID?.self, "decision_id"))
    }

    /// The decision documents that records without their own copy point at (only messages seen
    /// before need it: one more round trip for a duplicate), nil when none does. Decisions stay
    /// with the lead they were written for (merges do not move them): primary-key lookups.
    static func storedDecisionsQuery(_ records: [ProcessedMessage]) -> PostgresQuery? {
        let pointing = records.filter { $0.response == nil && $0.decisionId != nil }
        guard !pointing.isEmpty else { return nil }
        return """
            SELECT id, decision, packed FROM decisions
            WHERE lead_id = ANY(\(pointing.map(\.leadId))::uuid[]) AND id = ANY(\(pointing.compactMap(\.decisionId))::uuid[])
            """
    }

    /// `record` with the answer from `rows` (of `storedDecisionsQuery`) when it points at one.
    static func withStoredDecision(_ record: ProcessedMessage, _ rows: PostgresRows?) throws -> ProcessedMessage {
        guard record.response == nil, let id = record.decisionId, let rows else { return record }
        var filled = record
        for row in rows where try row.decode(UUID.self, "id") == id { filled.response = try storedDocument(row, json: "decision", packed: "packed") }
        return filled
    }

    /// A `timestamptz` from epoch microseconds (exact: they stay below 2^53, and to_timestamp
    /// rounds to the microsecond). to_timestamp is IMMUTABLE, timestamptz + interval is not:
    /// Citus refuses a STABLE expression on a column in an UPDATE.
    static func at(_ micros: String) -> String { "to_timestamp((\(micros))::float8 / 1000000)" }

    /// A jsonb array of one object per item, members written by `body`.
    static func rows<T>(_ items: [T], _ body: (inout JSONWriter, inout Bool, T) -> Void) -> PostgresJSON {
        var w = JSONWriter(capacity: 160 * items.count)
        w.array(items) { w, item in w.fixedObject { w, first in body(&w, &first, item) } }
        return w.json
    }
}
