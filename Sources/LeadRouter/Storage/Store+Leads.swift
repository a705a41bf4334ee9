import Foundation
import Postgres
import Segmentation

extension Store {
    /// Locks and reads leads (`SELECT … FOR UPDATE`, in id order so that two transactions locking
    /// overlapping sets queue instead of deadlocking). Missing ids are simply absent.
    public func leadsForUpdate(_ ids: [UUID]) throws -> [LeadRecord] {
        guard !ids.isEmpty else { return [] }
        let sorted = Array(Set(ids)).sorted { $0.uuidString < $1.uuidString }
        return try connection.query("""
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leads WHERE id = ANY(\(sorted)) ORDER BY id FOR UPDATE
            """).map(LeadRecord.init(row:))
    }

    /// Reads a lead without locking (read API).
    public func lead(_ id: UUID) throws -> LeadRecord? {
        try connection.query("SELECT \(unsafeRaw: LeadRecord.columns) FROM leads WHERE id = \(id)").first.map(LeadRecord.init(row:))
    }

    /// The statement inserting an empty lead row with a client-made id (profile and evaluation
    /// follow with `saveLead` in the same pipeline). `created_at` is the statement's own clock,
    /// not the transaction's: of two leads created in one lane batch the earlier is the older,
    /// which decides the survivor when a later message merges them.
    public func insertLeadQuery(id: UUID, firstSeen: Date) -> PostgresQuery {
        "INSERT INTO leads (id, first_seen_at, status, created_at) VALUES (\(id), \(firstSeen), 'new', clock_timestamp())"
    }

    /// Writes the lead's state and evaluation results: one row write per event.
    public func saveLead(id: UUID, state s: LeadState, primarySegment: String?, rulesetVersion: Int,
                         nextEvaluationAt: Date?) throws {
        try connection.execute(saveLeadQuery(id: id, state: s, primarySegment: primarySegment, rulesetVersion: rulesetVersion,
                                             nextEvaluationAt: nextEvaluationAt))
    }

    /// The statement of `saveLead`, for a pipeline. With `before` (the state as read), JSON
    /// columns that did not change are sent as NULL and kept (`coalesce`), so an event costs no
    /// re-encoding of the traits, touches or memberships it did not touch.
    public func saveLeadQuery(id: UUID, state s: LeadState, primarySegment: String?, rulesetVersion: Int,
                              nextEvaluationAt: Date?, before: LeadState? = nil) throws -> PostgresQuery {
        func changed<T: Equatable>(_ path: KeyPath<LeadState, T>) -> Bool { before.map { $0[keyPath: path] != s[keyPath: path] } ?? true }
        let traits = changed(\.traits) ? LeadJSON.traits(s.traits) : nil
        let first = changed(\.firstSource) ? s.firstSource.map(LeadJSON.touch) : nil
        let last = changed(\.lastSource) ? s.lastSource.map(LeadJSON.touch) : nil
        let parts = changed(\.scoreParts) ? LeadJSON.scoreParts(s.scoreParts) : nil
        let entered = changed(\.memberships) ? LeadJSON.memberships(s.memberships) : nil
        let segments = s.memberships.keys.sorted()
        let size = s.company.size.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) }
        return """
            UPDATE leads SET email = \(s.email), user_id = \(s.userId), country = \(s.country), region = \(s.region),
                ship_to_region = \(s.shipToRegion), company_domain = \(s.company.domain), company_size = \(size),
                company_industry = \(s.company.industry), company_tech_stack = \(s.company.techStack),
                traits = coalesce(\(traits), traits), source_first = coalesce(\(first), source_first),
                source_last = coalesce(\(last), source_last),
                first_seen_at = coalesce(\(s.firstSeen?.date), first_seen_at), last_event_at = \(s.lastEventAt?.date),
                stage = \(s.stage), status = \(s.status), status_at = \(s.statusAt?.date), score = \(s.score),
                score_at = \(s.scoreAt?.date), score_parts = coalesce(\(parts), score_parts), band = \(s.band), customer = \(s.customer),
                segments = \(segments), segment_entered = coalesce(\(entered), segment_entered), primary_segment = \(primarySegment),
                signal_state = \(Data(s.signals.encode())), ruleset_version = \(rulesetVersion),
                next_evaluation_at = \(nextEvaluationAt), updated_at = now()
            WHERE id = \(id)
            """
    }

    /// Marks `loser` as merged into `survivor`: it keeps its row (old ids still answer) but no
    /// identities, memberships or schedule of its own.
    public func markMerged(_ loser: UUID, into survivor: UUID) throws {
        try connection.execute("""
            UPDATE leads SET merged_into = \(survivor), segments = '{}', segment_entered = '{}', primary_segment = NULL,
                next_evaluation_at = NULL, updated_at = now()
            WHERE id = \(loser)
            """)
        try connection.execute("DELETE FROM memberships WHERE lead_id = \(loser)")
        try connection.execute("UPDATE membership_history SET lead_id = \(survivor) WHERE lead_id = \(loser)")
        try connection.execute("UPDATE leads SET merged_into = \(survivor) WHERE merged_into = \(loser)")
    }

    /// Sweeper: locks up to `limit` leads due for re-evaluation at `now`; rows another node holds are skipped.
    public func dueLeadsForUpdate(now: Date, limit: Int) throws -> [LeadRecord] {
        try connection.query("""
            SELECT \(unsafeRaw: LeadRecord.columns) FROM leads
            WHERE next_evaluation_at <= \(now) AND merged_into IS NULL
            ORDER BY next_evaluation_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """).map(LeadRecord.init(row:))
    }
}
