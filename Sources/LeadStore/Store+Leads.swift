import Foundation
import JSONCoding
import Postgres
import Segmentation

extension Store {
    /// Locks and reads leads (`SELECT … FOR UPDATE`, in id order so that two transactions locking
    /// overlapping sets queue instead of deadlocking). Missing ids are simply absent.
    /// `leadrouter_lock_leads` (migration 0082): the one statement on plain PostgreSQL, a lock
    /// per lead (one shard each) on Citus.
    public func leadsForUpdate(_ ids: [UUID]) throws -> [LeadRecord] {
        guard !ids.isEmpty else { return [] }
        return try leadRecordsOrThrow(connection.query("""
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leadrouter_lock_leads(\(Array(Set(ids)))::uuid[]) AS leads
            """))
    }

    /// Locks and reads the leads `ids` and every lead their `merged_into` pointers lead to, at
    /// any depth (a recursive CTE: one round trip for a chain of any length; `UNION` ends a
    /// pointer cycle instead of looping), `FOR UPDATE` in id order as `leadsForUpdate`. The chains
    /// are read from the statement's snapshot: a merge committing before the lock shows as a
    /// locked row pointing past them, which the caller follows with another call.
    /// A row that does not decode throws `UndecodableLead` (`leadChainsForUpdateEach` sets them apart).
    public func leadChainsForUpdate(_ ids: [UUID]) throws -> [LeadRecord] {
        let (records, undecodable) = try leadChainsForUpdateEach(ids)
        if let first = undecodable.first { throw first }
        return records
    }

    /// `leadChainsForUpdate`, with the rows that do not decode set apart (still locked): a lane
    /// batch fails only the messages that resolve to them.
    public func leadChainsForUpdateEach(_ ids: [UUID]) throws -> (records: [LeadRecord], undecodable: [UndecodableLead]) {
        guard !ids.isEmpty else { return ([], []) }
        return try leadRecords(connection.query("""
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leadrouter_lock_merge_chains(\(Array(Set(ids)))::uuid[]) AS leads
            """))
    }

    /// Reads a lead without locking (read API).
    public func lead(_ id: UUID) throws -> LeadRecord? {
        try leadRecordsOrThrow(connection.query("SELECT \(unsafeRaw: LeadRecord.columns) FROM leads WHERE id = \(id)")).first
    }

    /// The set-based writes of staged lead saves: one `UPDATE … FROM` for the final state of
    /// every lead this flush does not insert (those are whole in `leadInsertQuery`), then the
    /// `memberships` rows of the leads whose memberships changed made equal to their current set.
    /// JSON columns equal to what the row held before the batch are not sent (NULL keeps the
    /// column), so an event costs no re-encoding of what it did not touch.
    ///
    /// `next_evaluation_at` is when the sweeper looks at the lead next: never later than its rules
    /// need, possibly earlier. A save keeps an earlier time the row already holds (only the
    /// sweeper, `exactSchedule`, moves it later): most events push a lead's schedule later
    /// (`inactive(…)` counts from the last event), and leaving the indexed column alone lets
    /// PostgreSQL update the row in place (HOT: no index entries, the page prunes itself; 0006
    /// leaves room on each page for it). The price is one early sweep of such a lead, which finds
    /// nothing to change and stores the exact time.
    func leadSaveQueries(_ w: StagedWrites) -> [PostgresQuery] {
        // Leads this flush inserts get their whole row in the INSERT (`leadInsertQuery`).
        let inserted = Set(w.newLeads.map(\.id))
        let updated = w.leadOrder.filter { !inserted.contains($0) }
        var j = JSONWriter(capacity: 1024 * updated.count)
        j.array(updated) { j, id in Self.writeLeadRow(&j, id: id, save: w.leadSaves[id]!, database: connection.databaseKey) }
        // Membership rows are made equal to each saved lead's current set by difference with the
        // set its row held (the stored state): rows it held that changed go, rows it lacked come.
        // A lead without a stored state (new, or a merge survivor) is synced in full (`unknown`).
        var unknown: [(UUID, [String: Timestamp])] = []
        var removed: [(UUID, String)] = []
        var added: [(UUID, String, Timestamp, Int)] = []
        for id in w.leadOrder {
            let save = w.leadSaves[id]!
            let s = save.state
            guard save.membershipsChanged else { continue }
            if let stored = save.stored {
                for (segment, at) in stored.memberships where s.memberships[segment] != at { removed.append((id, segment)) }
            } else if !inserted.contains(id) {
                unknown.append((id, s.memberships))
            }
            for (segment, at) in s.memberships where save.stored?.memberships[segment] != at {
                added.append((id, segment, at, save.rulesetVersion))
            }
        }
        let rescored = Self.rescoredMemberships(w, skipping: added)
        var queries: [PostgresQuery] = updated.isEmpty ? [] : ["""
            UPDATE leads l SET email = x.email, user_id = x.user_id, country = x.country, region = x.region,
                ship_to_region = x.ship_to_region, company_domain = x.company_domain, company_size = x.company_size,
                company_industry = x.company_industry,
                company_tech_stack = nullif(ARRAY(SELECT jsonb_array_elements_text(x.company_tech_stack)), '{}'),
                traits = coalesce(x.traits, l.traits), source_first = coalesce(x.source_first, l.source_first),
                source_last = coalesce(x.source_last, l.source_last),
                first_seen_at = coalesce(\(unsafeRaw: Self.at("x.first_seen_at")), l.first_seen_at),
                last_event_at = \(unsafeRaw: Self.at("x.last_event_at")), stage = x.stage, status = x.status,
                status_at = \(unsafeRaw: Self.at("x.status_at")), score = x.score, score_at = \(unsafeRaw: Self.at("x.score_at")),
                score_parts = coalesce(x.score_parts, l.score_parts), band = x.band, customer = x.customer,
                segment_entered = coalesce(x.segment_entered, l.segment_entered), primary_segment = x.primary_segment,
                signal_state = decode(x.signal_state, 'hex'), ruleset_version = x.ruleset_version,
                next_evaluation_at = CASE WHEN x.exact_schedule IS NOT TRUE
                                           AND l.next_evaluation_at <= coalesce(\(unsafeRaw: Self.at("x.next_evaluation_at")), 'infinity')
                                          THEN l.next_evaluation_at ELSE \(unsafeRaw: Self.at("x.next_evaluation_at")) END,
                decision_seq = x.decision_seq,
                action_packed = CASE WHEN x.action_state_cleared THEN NULL ELSE coalesce(decode(x.action_packed, 'hex'), l.action_packed) END,
                action_state = CASE WHEN x.action_state_cleared OR x.action_packed IS NOT NULL THEN NULL ELSE l.action_state END,
                updated_at = now()
            FROM jsonb_to_recordset(\(j.json)) AS x(\(unsafeRaw: Self.leadRowRecord))
            WHERE l.id = x.id
            """]
        if !unknown.isEmpty {
            var current = JSONWriter(capacity: 96 * unknown.count)
            current.byte(UInt8(ascii: "["))
            var firstRow = true
            for (lead, memberships) in unknown {
                for (segment, at) in memberships {
                    if !firstRow { current.byte(UInt8(ascii: ",")) }
                    firstRow = false
                    current.fixedObject { m, f in
                        m.member("l", first: &f); m.uuid(lead)
                        m.member("s", first: &f); m.string(segment)
                        m.member("e", first: &f); m.micros(at)
                    }
                }
            }
            current.byte(UInt8(ascii: "]"))
            // Rows of segments left (or re-entered at another time) go; current ones are added.
            queries.append("""
                DELETE FROM memberships m WHERE m.lead_id = ANY(\(unknown.map(\.0))::uuid[]) AND NOT EXISTS (
                    SELECT 1 FROM jsonb_to_recordset(\(current.json)) AS k(l uuid, s text, e int8)
                    WHERE k.l = m.lead_id AND k.s = m.segment AND \(unsafeRaw: Self.at("k.e")) = m.entered_at)
                """)
        }
        if !removed.isEmpty {
            queries.append("""
                DELETE FROM memberships m USING unnest(\(removed.map(\.0))::uuid[], \(removed.map(\.1))::text[]) AS k(l, s)
                WHERE m.segment = k.s AND m.lead_id = k.l
                """)
        }
        if !added.isEmpty {
            let rows = Self.rows(added) { m, f, row in
                m.member("l", first: &f); m.uuid(row.0)
                m.member("s", first: &f); m.string(row.1)
                m.member("e", first: &f); m.micros(row.2)
                m.member("v", first: &f); m.int(row.3)
                if let rank = w.leadSaves[row.0]!.ranks[row.1] { Self.writeRank(&m, &f, rank) }
            }
            // A row kept across a full sync (`unknown`) takes the score it has now.
            queries.append("""
                INSERT INTO memberships (segment, lead_id, entered_at, ruleset_version, score, score_at, score_rank)
                SELECT s, l, \(unsafeRaw: Self.at("e")), v, coalesce(sc, 0), \(unsafeRaw: Self.at("t")), coalesce(r, 0)
                FROM jsonb_to_recordset(\(rows)) AS k(l uuid, s text, e int8, v int, sc float8, t int8, r float8)
                ON CONFLICT (segment, lead_id) DO UPDATE SET score = excluded.score, score_at = excluded.score_at,
                    score_rank = excluded.score_rank
                WHERE memberships.score_rank IS DISTINCT FROM excluded.score_rank
                """)
        }
        if !rescored.isEmpty {
            let rows = Self.rows(rescored) { m, f, row in
                m.member("l", first: &f); m.uuid(row.lead)
                m.member("s", first: &f); m.string(row.segment)
                Self.writeRank(&m, &f, row.rank)
            }
            queries.append("""
                UPDATE memberships m SET score = k.sc, score_at = \(unsafeRaw: Self.at("k.t")), score_rank = k.r
                FROM jsonb_to_recordset(\(rows)) AS k(l uuid, s text, sc float8, t int8, r float8)
                WHERE m.segment = k.s AND m.lead_id = k.l
                """)
        }
        return queries
    }

    /// Memberships kept by a save whose segment score ranks differently than the row holds: points
    /// were added (decay alone keeps the rank, `SegmentRank`), so most events rewrite no
    /// membership row. Rows `added` writes are left out (they carry their score).
    static func rescoredMemberships(_ w: StagedWrites, skipping added: [(UUID, String, Timestamp, Int)]) -> [(lead: UUID, segment: String, rank: SegmentRank)] {
        var rescored: [(lead: UUID, segment: String, rank: SegmentRank)] = []
        let written = Set(added.map { "\($0.0)/\($0.1)" })
        for id in w.leadOrder {
            let save = w.leadSaves[id]!
            for (segment, rank) in save.ranks.sorted(by: { $0.key < $1.key }) where save.state.memberships[segment] != nil {
                if let old = save.storedRanks?[segment], old.sameRank(as: rank) { continue }
                if written.contains("\(id)/\(segment)") { continue }
                rescored.append((id, segment, rank))
            }
        }
        return rescored
    }

    /// A segment score's columns in a membership row (`sc`, `t` in µs, `r`).
    static func writeRank(_ m: inout JSONWriter, _ f: inout Bool, _ rank: SegmentRank) {
        m.member("sc", first: &f); m.number(rank.score)
        m.member("t", first: &f); m.micros(Timestamp(milliseconds: rank.at))
        m.member("r", first: &f); m.number(rank.key)
    }

    /// Marks `loser` as merged into `survivor`: it keeps its row (old ids still answer) but no
    /// identities, memberships or schedule of its own. A membership both held ends in one: the
    /// loser's is recorded as an exit at `at` with reason `{"merged_into": …}` (segment metrics
    /// count it as a merge); one only the loser held passes to the survivor with its entry row.
    /// The loser's rows are copied, not updated, where Citus places them by lead_id (queue
    /// items, history: `Store+MergeMoves`), and the survivor's segments are read apart (an
    /// array), not correlated with the loser's rows, which are on another shard.
    public func markMerged(_ loser: UUID, into survivor: UUID, at: Date) throws {
        try connection.execute("""
            UPDATE leads SET merged_into = \(survivor), segment_entered = '{}', primary_segment = NULL,
                next_evaluation_at = NULL, updated_at = now()
            WHERE id = \(loser)
            """)
        try connection.execute("""
            WITH h AS (
                INSERT INTO membership_history (lead_id, segment, change, reason, ruleset_version, event_id, occurred_at)
                SELECT m.lead_id, m.segment, 'exited', jsonb_build_object('merged_into', \(survivor)::text), m.ruleset_version, NULL, \(at)
                FROM memberships m
                WHERE m.lead_id = \(loser) AND m.segment = ANY(ARRAY(SELECT s.segment FROM memberships s WHERE s.lead_id = \(survivor)))
                RETURNING *)
            \(unsafeRaw: Self.segmentDeltasOfH)
            """)
        try connection.execute("DELETE FROM memberships WHERE lead_id = \(loser)")
        try connection.execute(Self.stageMergeQuery(loser, at: at))
        try connection.execute(Self.moveQueueItemsQuery(loser, into: survivor, survivorHasOne: true))
        try connection.execute(Self.moveQueueItemsQuery(loser, into: survivor, survivorHasOne: false))
        _ = try connection.query("SELECT leadrouter_move_membership_history(\(loser), \(survivor))")
        try connection.execute("""
            WITH moved AS (DELETE FROM segment_goal_reached WHERE lead_id = \(loser) RETURNING segment, entered_at, reached_at),
            g AS (INSERT INTO segment_goal_reached (lead_id, segment, entered_at, reached_at)
                  SELECT \(survivor), segment, entered_at, reached_at FROM moved ON CONFLICT DO NOTHING
                  RETURNING lead_id, segment, entered_at)
            \(unsafeRaw: Self.segmentGoalDeltasOfG)
            """)
        try connection.execute("UPDATE leads SET merged_into = \(survivor) WHERE merged_into = \(loser)")
    }

    /// Sweeper: locks up to `limit` leads due for re-evaluation at `now`; rows another node holds are skipped.
    /// Planned for index lookups (`indexPlans`, in the same round trip): planned with the stale
    /// statistics of a table that filled up fast (before autovacuum analysed it), the sweep
    /// scanned all of `leads` every second (about 80 ms a sweep under the ingest benchmark).
    /// Rows that do not decode come back apart (`undecodable`), locked: the sweeper quarantines
    /// them and sweeps the others. Quarantined leads are left out (their schedule is cleared when
    /// they are quarantined; this covers a schedule written since). Each lead is locked by a
    /// statement of its own inside `leadrouter_lock_due_leads` (migration 0056), as Citus needs.
    public func dueLeadsForUpdate(now: Date, limit: Int) throws -> (records: [LeadRecord], undecodable: [UndecodableLead]) {
        try leadRecords(connection.pipeline([Self.indexPlans, """
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leadrouter_lock_due_leads(\(now), \(limit)::integer) AS leads
            """])[1])
    }
}
