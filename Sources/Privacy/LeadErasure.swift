import Essentials
import Foundation
import JSONCoding
import LeadStore
import Logging
import Postgres
import Segmentation

/// What an erasure request found and did.
public enum ErasureOutcome: Sendable {
    /// Erased now: the tombstone of the lead that answered for the group.
    case erased(ErasedLead, leadIds: [UUID])
    /// Erased before (the same tombstone is answered again: erasure is idempotent).
    case alreadyErased(ErasedLead)
    case notFound
}

/// The erase use case (`DELETE /v1/leads/{id}`, `leadrouter leads erase`): in ONE transaction the
/// person's data is removed from every table that holds it, a tombstone stays, their identities
/// are optionally suppressed, and a `lead.erased` webhook is queued. Merged leads go together.
public struct LeadErasure: Sendable {
    let pool: PostgresPool
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(pool: PostgresPool, clock: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.pool = pool; self.clock = clock; self.logger = logger
    }

    /// Erases the lead `id` (or the lead it was merged into) with its whole merge group.
    /// `suppress`: new messages carrying its email, user id or anonymous ids are dropped from now
    /// on (Segment's "suppress with delete"); without it they would start a new lead.
    public func erase(lead id: UUID, suppress: Bool) throws -> ErasureOutcome {
        try pool.withTransaction { conn in try erase(id, suppress: suppress, store: Store(conn)) }
    }

    /// Erases the lead holding identity `key` (nil when no lead holds it).
    public func erase(identity key: IdentityKey, suppress: Bool) throws -> ErasureOutcome {
        try pool.withTransaction { conn in
            let store = Store(conn)
            guard let id = try store.leadId(for: key) else { return .notFound }
            return try erase(id, suppress: suppress, store: store)
        }
    }

    /// Locks in ingest's order — identity keys' advisory locks, then lead rows — and re-reads the
    /// group until no merge or new identity slipped in between, then erases it.
    func erase(_ id: UUID, suppress: Bool, store: Store) throws -> ErasureOutcome {
        var locked = Set<IdentityKey>()
        for _ in 0..<5 {
            guard let group = try store.mergeGroup(of: id) else { return .notFound }
            if let tombstone = try store.erasedLead(group.liveLeadId) { return .alreadyErased(tombstone) }
            let keys = try store.identities(ofAny: group.leadIds)
            let fresh = keys.filter { !locked.contains($0) }
            if !fresh.isEmpty {
                try store.lockIdentityKeys(Array(locked.union(fresh)))
                locked.formUnion(fresh)
            }
            try store.lockLeadRows(group.leadIds)
            // A merge or a new identity that committed before the locks were granted changes the
            // group: start over, keeping the locks held (they are only ever added to).
            guard try store.mergeGroup(of: id) == group, Set(try store.identities(ofAny: group.leadIds)).isSubset(of: locked) else {
                continue
            }
            try store.allowLongStatements(seconds: 600)
            let erasureId = UUID.random(), now = clock()
            // The data inventory counts the live lead and its fields until now (an undecodable,
            // quarantined row was never counted as read: it is left as counted).
            if let live = try? store.lead(group.liveLeadId) {
                try store.subtractErasedLeadFromInventory(fields: Array(InventoryFields.present(in: live.state).keys).sorted(), at: now)
            }
            let counts = try store.eraseGroup(group, erasureId: erasureId, suppress: suppress, at: now) { counts in
                OutboxMessage(topic: .leadErased, leadId: group.liveLeadId,
                              payload: Self.notice(group: group, erasureId: erasureId, at: now, counts: counts))
            }
            logger.info("lead erased", metadata: ["lead.id": "\(group.liveLeadId.uuidString.lowercased())",
                                                  "leads": "\(group.leadIds.count)", "suppressed": "\(suppress)"])
            let tombstone = ErasedLead(leadId: group.liveLeadId, erasureId: erasureId, liveLeadId: group.liveLeadId,
                                       erasedAt: now, suppressed: suppress, counts: counts)
            return .erased(tombstone, leadIds: group.leadIds)
        }
        throw ErasureContended()
    }

    /// `data` of `lead.erased`: ids and counts only, never a value.
    static func notice(group: MergeGroup, erasureId: UUID, at now: Date, counts: [String: Int]) -> PostgresJSON {
        var w = JSONWriter()
        w.fixedObject { w, first in
            w.member("counts", first: &first); w.object(counts) { w, n in w.int(n) }
            w.member("erased_at", first: &first); w.timestamp(Timestamp(now))
            w.member("erasure_id", first: &first); w.uuid(erasureId)
            w.member("lead_id", first: &first); w.uuid(group.liveLeadId)
            w.member("lead_ids", first: &first); w.array(group.leadIds) { w, id in w.uuid(id) }
        }
        return w.json
    }
}

/// The group kept changing under the erasure (merges or new identities on every attempt).
public struct ErasureContended: Error, CustomStringConvertible {
    public var description: String { "the lead kept changing during erasure; try again" }
}
