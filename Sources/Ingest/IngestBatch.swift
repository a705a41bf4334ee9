import Foundation
import LeadStore
import Postgres
import Segmentation

extension IngestService {
    /// Applies a lane's batch as the body of `transaction` in two round trips whatever its size:
    /// one for the advisory locks, idempotency answers, identity lookups and locked lead rows of
    /// the whole batch; then the messages are decided in memory, in order — a message sees the
    /// leads, identities and answers of the ones before it — and all their writes go out in one
    /// pipeline, one set-based statement per table. A message that merges leads or needs a signal
    /// backfill, or that touches what such a message changed, is applied on its own (`apply`)
    /// after the writes staged before it were sent.
    /// The transaction sends its BEGIN in the first round trip and its COMMIT in the one of the
    /// writes, which are left to it (`withPipelinedTransaction` commits after this returns).
    func applyBatch(_ batch: [(message: SegmentMessage, writeKey: UUID)], in transaction: PostgresTransaction) throws -> [IngestResult] {
        let store = Store(transaction.connection)
        let identities = batch.map { MessageIdentity($0.message) }
        let keys = Array(Set(identities.flatMap(\.lookupKeys)))
        let ids = batch.compactMap { $0.message.messageIdProvided ? ProcessedKey(writeKey: $0.writeKey, messageId: $0.message.messageId) : nil }
        let start = try store.lockCheckAndResolve(batchKeys: keys, messages: Array(Set(ids)), in: transaction)
        var leads = try lockLeads(batch: start, store: store)
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
        pending.flush(into: transaction)
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

    /// The lead rows of the batch, locked in its first round trip; then, locked too, any lead they
    /// were merged into meanwhile (a merge that committed after the lookup).
    func lockLeads(batch start: BatchStart, store: Store) throws -> [UUID: LeadRecord] {
        var leads: [UUID: LeadRecord] = [:]
        for record in start.locked { leads[record.id] = record }
        var wanted = Set(start.found.values).subtracting(leads.keys)
        for _ in 0..<8 {
            wanted.formUnion(Set(leads.values.compactMap(\.mergedInto)).subtracting(leads.keys))
            if wanted.isEmpty { break }
            for record in try store.leadsForUpdate(Array(wanted)) { leads[record.id] = record }
            wanted = []
        }
        return leads
    }
}
