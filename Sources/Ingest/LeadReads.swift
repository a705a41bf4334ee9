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
/// lead. Reads go where `routing` says (a read replica when configured and fresh, except for a
/// lead this node just wrote); what must see the latest state (a stored row after a change, the
/// erasure check) reads the primary.
package struct LeadReads: Sendable {
    /// Also handed to the dashboard's other reads (metrics, queues, drift), so a page reads one place.
    package let routing: ReadRouting
    /// The primary.
    var pool: PostgresPool { routing.primary }
    /// A lead row that cannot be decoded is recorded there and answered as quarantined (409).
    let quarantine: LeadQuarantine

    package init(pool: PostgresPool, quarantine: LeadQuarantine? = nil, routing: ReadRouting? = nil) {
        self.routing = routing ?? ReadRouting(primary: pool)
        self.quarantine = quarantine ?? LeadQuarantine(pool: pool)
    }

    /// The lead of `id`, or of the lead it was merged into; throws `LeadErasedError` for an
    /// erased lead (the API answers 410).
    package func lead(_ id: UUID) throws -> LeadWithIdentities? {
        try quarantine.recording { try routing.pool(forLead: id).withConnection { conn in
            let store = Store(conn)
            try Self.refuseErased(id, store)
            guard let lead = try store.liveLead(id) else { return nil }
            return try Self.withIdentities([lead], store: store).first
        } }
    }

    /// The lead that owns identity `key`. A miss on the replica, or a lead this node just wrote,
    /// is asked of the primary again: the replica may not have it yet.
    package func lead(for key: IdentityKey) throws -> LeadWithIdentities? {
        let reader = routing.pool(forLead: nil)
        let found = try lead(for: key, on: reader)
        guard reader !== routing.primary, found.map({ routing.wroteRecently($0.lead.id) }) ?? true else { return found }
        return try lead(for: key, on: routing.primary)
    }

    private func lead(for key: IdentityKey, on reader: PostgresPool) throws -> LeadWithIdentities? {
        try quarantine.recording { try reader.withConnection { conn in
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
        try quarantine.recording { try routing.pool(forLead: nil).withTransaction { conn in
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
        try quarantine.recording { try routing.pool(forLead: id).withConnection { conn in
            let store = Store(conn)
            try Self.refuseErased(id, store)
            guard let lead = try store.liveLead(id) else { return nil }
            return Segments(lead: lead, current: try store.memberships(of: lead.id), history: try store.membershipHistory(of: lead.id))
        } }
    }

    /// A page of a lead's decisions, newest first.
    package func decisions(of id: UUID, limit: Int, cursor: String?) throws -> Page<DecisionRow>? {
        try quarantine.recording { try routing.pool(forLead: id).withConnection { conn in
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
        try routing.pool(forLead: nil).withConnection { try Store($0).segmentSizes() }
    }

    /// A page of a segment's members in `order`, with email, score and stage.
    package func members(of segment: String, order: MemberOrder, limit: Int, cursor: String?) throws -> Page<SegmentMember> {
        try routing.pool(forLead: nil).withTransaction { conn in
            let store = Store(conn)
            try store.planListsByIndex()
            return try store.members(of: segment, order: order, limit: limit, cursor: cursor)
        }
    }
}

extension LeadReads {
    /// A page of a scored segment's members, highest segment score first (`Store.membersByRank`).
    package func membersByRank(of segment: String, limit: Int, after cursor: MemberRankCursor?) throws
        -> (items: [SegmentMember], next: MemberRankCursor?) {
        try routing.pool(forLead: nil).withTransaction { conn in
            let store = Store(conn)
            try store.planListsByIndex()
            return try store.membersByRank(of: segment, limit: limit, after: cursor)
        }
    }
}

/// A read or change of a lead that was erased: only its tombstone is left (the API answers 410 Gone).
package struct LeadErasedError: Error {
    package var tombstone: ErasedLead
    package init(tombstone: ErasedLead) { self.tombstone = tombstone }
}
