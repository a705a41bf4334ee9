import Foundation
import JSONCoding
import Postgres
import Segmentation

extension Store {
    /// The INSERT of the leads a flush creates, each with its whole state: a new lead's row is
    /// written once, not inserted bare and then rewritten by the batch's UPDATE (a second row
    /// version, with its index entries, for every first event of a person). Rows go in message
    /// order with `created_at` from the statement's clock, so the earlier lead is the older.
    /// A new lead whose save is not staged yet (a decision hook flushed before it) gets a bare
    /// row, and its save becomes an UPDATE of the next flush.
    func leadInsertQuery(_ w: StagedWrites) -> PostgresQuery? {
        guard !w.newLeads.isEmpty else { return nil }
        var j = JSONWriter(capacity: 1024 * w.newLeads.count)
        j.array(w.newLeads) { j, lead in
            if let save = w.leadSaves[lead.id] {
                Self.writeLeadRow(&j, id: lead.id, save: save, database: connection.databaseKey, firstSeen: lead.firstSeen)
            } else {
                j.fixedObject { j, f in
                    j.member("id", first: &f); j.uuid(lead.id)
                    j.member("created_first_seen_at", first: &f); j.micros(lead.firstSeen)
                }
            }
        }
        return """
            INSERT INTO leads (id, email, user_id, country, region, ship_to_region, company_domain, company_size,
                company_industry, company_tech_stack, traits, source_first, source_last, first_seen_at, last_event_at,
                stage, status, status_at, score, score_at, score_parts, band, customer, segment_entered,
                primary_segment, signal_state, ruleset_version, next_evaluation_at, decision_seq, action_packed, owner_id, created_at)
            SELECT x.id, x.email, x.user_id, x.country, x.region, x.ship_to_region, x.company_domain, x.company_size,
                x.company_industry, nullif(ARRAY(SELECT jsonb_array_elements_text(x.company_tech_stack)), '{}'),
                coalesce(x.traits, '{}'), x.source_first, x.source_last,
                \(unsafeRaw: Self.at("coalesce(x.first_seen_at, x.created_first_seen_at)")), \(unsafeRaw: Self.at("x.last_event_at")),
                x.stage, coalesce(x.status, 'new'), \(unsafeRaw: Self.at("x.status_at")), coalesce(x.score, 0),
                \(unsafeRaw: Self.at("x.score_at")), coalesce(x.score_parts, '{}'), x.band, coalesce(x.customer, false),
                coalesce(x.segment_entered, '{}'),
                x.primary_segment, decode(x.signal_state, 'hex'), x.ruleset_version,
                \(unsafeRaw: Self.at("x.next_evaluation_at")), coalesce(x.decision_seq, 0), decode(x.action_packed, 'hex'), x.owner_id, clock_timestamp()
            FROM jsonb_array_elements(\(j.json)) WITH ORDINALITY AS e(r, n), jsonb_to_record(e.r) AS x(\(unsafeRaw: Self.leadRowRecord))
            ORDER BY e.n
            """
    }

    /// The record definition of a row `writeLeadRow` writes (for `jsonb_to_record(set)`), shared
    /// by the INSERT of new leads and the UPDATE of the others.
    static let leadRowRecord = """
        id uuid, email text, user_id text, country text, region text, ship_to_region text, company_domain text,
        company_size text, company_industry text, company_tech_stack jsonb, traits jsonb, source_first jsonb,
        source_last jsonb, first_seen_at int8, last_event_at int8, stage text, status text, status_at int8, score float8,
        score_at int8, score_parts jsonb, band text, customer bool, segment_entered jsonb,
        primary_segment text, signal_state text, ruleset_version int, next_evaluation_at int8, exact_schedule bool,
        created_first_seen_at int8, decision_seq int8, action_packed text, action_state_cleared bool, owner_id text
        """

    /// One lead's row as the set-based lead statements read it (`leadRowRecord`). JSON columns equal to what the
    /// stored row holds are left out (NULL keeps the column). `firstSeen` is the creating
    /// message's time, for a row this flush inserts (the engine's own `firstSeen` wins).
    /// `database` (the connection's `databaseKey`) picks the signal state's dictionary: the one of
    /// the save's ruleset version once this process has stored it there (`SignalDictionaries`).
    static func writeLeadRow(_ j: inout JSONWriter, id: UUID, save: StagedWrites.LeadSave, database: Int, firstSeen: Date? = nil) {
        let s = save.state
        func changed<T: Equatable>(_ path: KeyPath<LeadState, T>) -> Bool { save.stored.map { $0[keyPath: path] != s[keyPath: path] } ?? true }
        j.fixedObject { j, f in
            func text(_ name: StaticString, _ value: String?) { if let value { j.member(name, first: &f); j.string(value) } }
            func micros(_ name: StaticString, _ value: Timestamp?) { if let value { j.member(name, first: &f); j.micros(value) } }
            j.member("id", first: &f); j.uuid(id)
            if let firstSeen { j.member("created_first_seen_at", first: &f); j.micros(firstSeen) }
            text("email", s.email); text("user_id", s.userId); text("country", s.country); text("region", s.region)
            text("ship_to_region", s.shipToRegion); text("company_domain", s.company.domain)
            text("company_size", s.company.size.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) })
            text("company_industry", s.company.industry)
            text("owner_id", save.ownerId)
            j.member("company_tech_stack", first: &f); j.stringArray(s.company.techStack)
            if changed(\.traits) { j.member("traits", first: &f); j.value(.object(s.traits)) }
            if changed(\.firstSource), let t = s.firstSource { j.member("source_first", first: &f); j.append(json: LeadJSON.touch(t)) }
            // A new lead's last touch is nearly always its first: a NULL column stands for "the
            // same as source_first" (migration 0100), ~60 B less a row. In a stored row's UPDATE
            // NULL means "keep", so the last touch is written whenever the first changes too (an
            // earlier event moved it): a kept NULL would then read as the new first touch.
            if changed(\.lastSource) || changed(\.firstSource), let t = s.lastSource, save.stored != nil || t != s.firstSource {
                j.member("source_last", first: &f); j.append(json: LeadJSON.touch(t))
            }
            micros("first_seen_at", s.firstSeen); micros("last_event_at", s.lastEventAt)
            text("stage", s.stage); text("status", s.status); micros("status_at", s.statusAt)
            j.member("score", first: &f); j.number(s.score)
            micros("score_at", s.scoreAt)
            text("band", s.band)
            j.member("customer", first: &f); j.bool(s.customer)
            if changed(\.memberships) { j.member("segment_entered", first: &f); j.append(json: LeadJSON.memberships(s.memberships)) }
            text("primary_segment", save.primarySegment)
            j.member("signal_state", first: &f); j.hex(PackedSignals.pack(s.signals.encode(), with: SignalDictionaries.shared.packer(database: database, version: save.rulesetVersion)))
            j.member("ruleset_version", first: &f); j.int(save.rulesetVersion)
            if let next = save.nextEvaluationAt { j.member("next_evaluation_at", first: &f); j.micros(next) }
            if save.exactSchedule { j.member("exact_schedule", first: &f); j.bool(true) }
            j.member("decision_seq", first: &f); j.int(save.decisionSeq)
            if changed(\.interest) || changed(\.timezone) || changed(\.sent) || changed(\.segmentScores) || changed(\.scoreParts) {
                // The score's parts travel in the packed action state: the column keeps `{}`.
                j.member("score_parts", first: &f); j.append(json: LeadJSON.scoreParts([:]))
                if let state = LeadJSON.actionState(s) {
                    j.member("action_packed", first: &f); j.hex(PackedJSON.packActionState(state))
                } else if save.stored != nil {
                    j.member("action_state_cleared", first: &f); j.bool(true)
                }
            }
        }
    }
}
