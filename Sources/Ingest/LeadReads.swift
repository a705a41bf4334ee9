import Foundation
import LeadStore
import Postgres

/// A lead with its identity keys: what the read API shows of one lead.
package struct LeadWithIdentities: Sendable {
    package var lead: LeadRecord
    package var identities: [IdentityKey]
    /// Leads merged into this one (their ids answer with it).
    package var mergedIds: [UUID] = []
}

/// The read side of leads and segments (the CRM-facing read API): each call is one pooled
/// connection, no transaction. Lead lookups by id follow merges (`liveLead`); nil means no such
/// lead.
package struct LeadReads: Sendable {
    let pool: PostgresPool
    /// A lead row that cannot be decoded is recorded there and answered as quarantined (409).
    let quarantine: LeadQuarantine

    package init(pool: PostgresPool, quarantine: LeadQuarantine? = nil) {
        self.pool = pool; self.quarantine = quarantine ?? LeadQuarantine(pool: pool)
    }

    /// The lead of `id`, or of the lead it was merged into; throws `LeadErasedError` for an
    /// erased lead (the API answers 410).
    package func lead(_ id: UUID) throws -> LeadWithIdentities? {
        try quarantine.recording { try pool.withConnection { conn in
            let store = Store(conn)
            try Self.refuseErased(id, store)
            guard let lead = try store.liveLead(id) else { return nil }
            return try Self.withIdentities([lead], store: store).first
        } }
    }

    /// The lead that owns identity `key`.
    package func lead(for key: IdentityKey) throws -> LeadWithIdentities? {
        try quarantine.recording { try pool.withConnection { conn in
            let store = Store(conn)
            guard let id = try store.leadId(for: key), let lead = try store.liveLead(id) else { return nil }
            return try Self.withIdentities([lead], store: store).first
        } }
    }

    /// The row of `id` exactly as stored (a merged lead is not followed), e.g. after a status change.
    package func storedLead(_ id: UUID) throws -> LeadWithIdentities? {
        try quarantine.recording { try pool.withConnection { conn in
            let store = Store(conn)
            guard let lead = try store.lead(id) else { return nil }
            return try Self.withIdentities([lead], store: store).first
        } }
    }

    /// A page of live leads matching `query` (`GET /v1/leads?segment=…`), each with its
    /// identities and merged ids (one statement each for the whole page).
    package func leads(_ query: LeadListQuery, limit: Int, cursor: String?) throws -> Page<LeadWithIdentities> {
        try quarantine.recording { try pool.withTransaction { conn in
            let store = Store(conn)
            try store.planListsByIndex()
            let page = try store.leads(query, limit: limit, cursor: cursor)
            return Page(items: try Self.withIdentities(page.items, store: store), nextCursor: page.nextCursor)
        } }
    }

    /// `leads` with their identity keys and the ids merged into them.
    static func withIdentities(_ leads: [LeadRecord], store: Store) throws -> [LeadWithIdentities] {
        let ids = leads.map(\.id)
        let identities = try store.identities(of: ids)
        let merged = try store.mergedIds(into: ids)
        return leads.map { LeadWithIdentities(lead: $0, identities: identities[$0.id] ?? [], mergedIds: merged[$0.id] ?? []) }
    }

    /// A lead's current memberships and its membership history.
    package struct Segments: Sendable {
        package var lead: LeadRecord
        package var current: [(segment: String, enteredAt: Date)]
        package var history: [MembershipHistoryRow]
    }

    package func segments(of id: UUID) throws -> Segments? {
        try quarantine.recording { try pool.withConnection { conn in
            let store = Store(conn)
            try Self.refuseErased(id, store)
            guard let lead = try store.liveLead(id) else { return nil }
            return Segments(lead: lead, current: try store.memberships(of: lead.id), history: try store.membershipHistory(of: lead.id))
        } }
    }

    /// A page of a lead's decisions, newest first.
    package func decisions(of id: UUID, limit: Int, cursor: String?) throws -> Page<DecisionRow>? {
        try quarantine.recording { try pool.withConnection { conn in
            let store = Store(conn)
            try Self.refuseErased(id, store)
            guard let lead = try store.liveLead(id) else { return nil }
            return try store.decisions(of: lead.id, limit: limit, cursor: cursor)
        } }
    }

    /// Throws `LeadErasedError` when `id` was erased (a tombstone is all that is left of it).
    package func refuseErased(_ id: UUID) throws {
        try pool.withConnection { try Self.refuseErased(id, Store($0)) }
    }

    package static func refuseErased(_ id: UUID, _ store: Store) throws {
        if let tombstone = try store.erasedLead(id) { throw LeadErasedError(tombstone: tombstone) }
    }

    /// Live member count per segment name.
    package func segmentSizes() throws -> [String: Int] {
        try pool.withConnection { try Store($0).segmentSizes() }
    }

    /// A page of a segment's members in `order`, with email, score and stage.
    package func members(of segment: String, order: MemberOrder, limit: Int, cursor: String?) throws -> Page<SegmentMember> {
        try pool.withTransaction { conn in
            let store = Store(conn)
            try store.planListsByIndex()
            return try store.members(of: segment, order: order, limit: limit, cursor: cursor)
        }
    }
}

/// A read or change of a lead that was erased: only its tombstone is left (the API answers 410 Gone).
package struct LeadErasedError: Error {
    package var tombstone: ErasedLead
    package init(tombstone: ErasedLead) { self.tombstone = tombstone }
}
