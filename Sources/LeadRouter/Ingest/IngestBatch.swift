import Foundation
import Postgres
import Segmentation

extension IngestService {
    /// Applies a lane's batch in the caller's transaction with a fixed number of round trips:
    /// one for the advisory locks, idempotency answers and identity lookups of the whole batch,
    /// one locking every lead row it touches (`FOR UPDATE`, id order), then the messages are
    /// decided in memory, in order — a message sees the leads, identities and answers of the ones
    /// before it — and all their writes go out in one pipeline. A message that merges leads or
    /// needs a signal backfill, or that touches what such a message changed, is applied on its
    /// own (`apply`) after the writes staged before it were sent.
    func applyBatch(_ batch: [(message: SegmentMessage, writeKey: UUID)], store: Store) throws -> [IngestResult] {
        let identities = batch.map { MessageIdentity($0.message) }
        let keys = Array(Set(identities.flatMap(\.lookupKeys)))
        let ids = batch.compactMap { $0.message.messageIdProvided ? ProcessedKey(writeKey: $0.writeKey, messageId: $0.message.messageId) : nil }
        let start = try store.lockCheckAndResolve(batchKeys: keys, messages: Array(Set(ids)))
        var leads = try lockLeads(batch: Set(start.found.values), store: store)
        var resolved = start.found
        var answered: [ProcessedKey: IngestResult] = [:]
        var dirtyKeys = Set<IdentityKey>(), dirtyLeads = Set<UUID>()
        let pending = PendingStatements(store: store)
        var results: [IngestResult] = []
        results.reserveCapacity(batch.count)
        for (item, identity) in zip(batch, identities) {
            let key = item.message.messageIdProvided ? ProcessedKey(writeKey: item.writeKey, messageId: item.message.messageId) : nil
            if let key, let done = start.processed[key] { results.append(duplicate(done)); continue }
            if let key, var earlier = answered[key] {
                counters.add { $0.duplicates += 1 }
                earlier.duplicate = true
                results.append(earlier)
                continue
            }
            let live = Self.liveLeads(of: identity.lookupKeys, resolved: resolved, leads: leads)
            let alone = identity.lookupKeys.contains(where: dirtyKeys.contains) || live == nil || live!.count > 1
                || live!.contains(where: dirtyLeads.contains) || live!.contains(where: { needsBackfill(leads[$0]!.state) })
            let result: IngestResult
            if alone {
                try pending.flush()
                result = try apply(item.message, writeKey: item.writeKey, store: store)
                dirtyKeys.formUnion(identity.lookupKeys)
                dirtyLeads.formUnion(live ?? [])
                dirtyLeads.insert(result.leadId)
            } else {
                let now = clock()
                let existing = live!.first.flatMap { leads[$0] }
                let decided = try decide(item.message, writeKey: item.writeKey, identity: identity,
                                         lead: existing ?? LeadRecord(newLeadAt: now), others: [], isNew: existing == nil,
                                         now: now, store: store, pending: pending)
                result = decided.result
                leads[decided.lead.id] = decided.lead
                for k in identity.keys where resolved[k] == nil { resolved[k] = decided.lead.id }
            }
            if let key, !result.duplicate { answered[key] = result }
            results.append(result)
        }
        try pending.flush()
        return results
    }

    /// The live leads `keys` point to (following merges among the locked rows); nil when a
    /// pointer leads outside them (the caller then applies the message on its own).
    static func liveLeads(of keys: [IdentityKey], resolved: [IdentityKey: UUID], leads: [UUID: LeadRecord]) -> Set<UUID>? {
        var live = Set<UUID>()
        for key in keys {
            guard var id = resolved[key] else { continue }
            for _ in 0..<8 {
                guard let record = leads[id] else { return nil }
                guard let next = record.mergedInto else { break }
                id = next
            }
            guard leads[id]?.mergedInto == nil else { return nil }
            live.insert(id)
        }
        return live
    }

    /// Locks the batch's lead rows in one statement (id order), then any lead they were merged
    /// into meanwhile (a merge that committed after the lookup).
    func lockLeads(batch ids: Set<UUID>, store: Store) throws -> [UUID: LeadRecord] {
        var leads: [UUID: LeadRecord] = [:]
        var wanted = ids
        for _ in 0..<8 where !wanted.isEmpty {
            for record in try store.leadsForUpdate(Array(wanted)) { leads[record.id] = record }
            wanted = Set(leads.values.compactMap(\.mergedInto)).subtracting(leads.keys)
        }
        return leads
    }
}
