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
        try applyBatchEach(batch, in: transaction).map { try $0.get() }
    }

    /// `applyBatch` with each message's own outcome: a message whose keys resolve to a lead row
    /// that cannot be decoded (found when the batch locks and reads its leads) fails alone with
    /// `UndecodableLead`, before anything of it is staged; the others are applied and commit.
    /// The caller records the failures in the quarantine after the commit.
    func applyBatchEach(_ batch: [(message: SegmentMessage, writeKey: UUID)],
                        in transaction: PostgresTransaction) throws -> [Result<IngestResult, any Error>] {
        let store = Store(transaction.connection)
        let identities = batch.map { MessageIdentity($0.message) }
        let keys = Array(Set(identities.flatMap(\.lookupKeys)))
        let ids = batch.compactMap { $0.message.messageIdProvided ? ProcessedKey(writeKey: $0.writeKey, messageId: $0.message.messageId) : nil }
        let start = try store.lockCheckAndResolve(batchKeys: keys, messages: Array(Set(ids)), in: transaction)
        var undecodable = Dictionary(start.undecodable.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var leads = try lockLeads(batch: start, undecodable: &undecodable, store: store)
        var resolved = start.found
        var answered: [ProcessedKey: IngestResult] = [:]
        var dirtyKeys = Set<IdentityKey>(), dirtyLeads = Set<UUID>()
        let pending = PendingStatements(store: store, plansSet: true)  // lockCheckAndResolve sent ingestPlans
        var results: [Result<IngestResult, any Error>] = []
        results.reserveCapacity(batch.count)
        for (item, identity) in zip(batch, identities) {
            let key = item.message.messageIdProvided ? ProcessedKey(writeKey: item.writeKey, messageId: item.message.messageId) : nil
            if let key, let done = start.processed[key] { results.append(.success(duplicate(done))); continue }
            if let key, var earlier = answered[key] {
                counters.add { $0.duplicates += 1 }
                earlier.duplicate = true
                results.append(.success(earlier))
                continue
            }
            if !start.suppressed.isEmpty, identity.lookupKeys.contains(where: start.suppressed.contains) {
                pending.append(contentsOf: [store.countSuppressedDropsQuery(identity.lookupKeys.filter(start.suppressed.contains), at: clock())])
                results.append(.success(dropped()))
                continue
            }
            if !undecodable.isEmpty,
               let failure = Self.undecodableLead(of: identity.lookupKeys, resolved: resolved, leads: leads, undecodable: undecodable) {
                counters.add { $0.quarantinedMessages += 1 }
                results.append(.failure(failure))
                continue
            }
            let live = Self.liveLeads(of: identity.lookupKeys, resolved: resolved, leads: leads)
            let result: IngestResult
            switch inMemoryTarget(live: live, keys: identity.lookupKeys, leads: leads, dirtyKeys: dirtyKeys, dirtyLeads: dirtyLeads) {
            case .alone:
                try pending.flush()
                result = try apply(item.message, writeKey: item.writeKey, store: store)
                dirtyKeys.formUnion(identity.lookupKeys)
                dirtyLeads.formUnion(live ?? [])
                dirtyLeads.insert(result.leadId)
            case .lead(let existing):
                let now = clock()
                let decided = try decide(item.message, writeKey: item.writeKey, identity: identity,
                                         lead: existing ?? LeadRecord(newLeadAt: now), others: [], isNew: existing == nil,
                                         now: now, store: store, pending: pending)
                result = decided.result
                leads[decided.lead.id] = decided.lead
                for k in identity.keys where resolved[k] == nil { resolved[k] = decided.lead.id }
            }
            if let key, !result.duplicate { answered[key] = result }
            results.append(.success(result))
        }
        try pending.flush(into: transaction)
        try beforeCommit?(transaction)
        // Decisions routed at the end of the batch answer with their routed documents.
        if !pending.resolved.isEmpty {
            results = results.map { $0.map { result in
                var result = result
                result.decision = pending.resolve(result.decision)
                return result
            } }
        }
        return results
    }

    /// Where a message of the batch is decided: in memory on `lead` (nil: a new lead), or on its
    /// own (`apply`) after what is staged was sent.
    enum BatchTarget {
        case alone
        case lead(LeadRecord?)
    }

    /// In memory only when the message's keys point to at most one live lead, locked here, that
    /// no message applied alone touched and whose signals cover the ruleset; a merge, a backfill,
    /// a pointer outside the locked rows or anything a merge changed goes alone.
    func inMemoryTarget(live: Set<UUID>?, keys: [IdentityKey], leads: [UUID: LeadRecord],
                        dirtyKeys: Set<IdentityKey>, dirtyLeads: Set<UUID>) -> BatchTarget {
        guard let live, live.count <= 1, !keys.contains(where: dirtyKeys.contains) else { return .alone }
        guard let id = live.first else { return .lead(nil) }
        guard !dirtyLeads.contains(id), let record = leads[id], !needsBackfill(record.state) else { return .alone }
        return .lead(record)
    }

    /// The live leads `keys` point to (following merges among the locked rows, at any depth); nil
    /// when a pointer leads outside them or loops (the caller then applies the message on its own).
    static func liveLeads(of keys: [IdentityKey], resolved: [IdentityKey: UUID], leads: [UUID: LeadRecord]) -> Set<UUID>? {
        var live = Set<UUID>()
        for key in keys {
            guard let id = resolved[key] else { continue }
            guard let end = liveEnd(of: id, in: leads) else { return nil }
            live.insert(end)
        }
        return live
    }

    /// The lead rows of the batch, locked in its first round trip; then, locked too, the leads
    /// they were merged into, however long the chain (a merge that committed after the lookup,
    /// or chains stored before merges repointed them).
    /// Rows that do not decode are collected in `undecodable`.
    func lockLeads(batch start: BatchStart, undecodable: inout [UUID: UndecodableLead], store: Store) throws -> [UUID: LeadRecord] {
        var leads: [UUID: LeadRecord] = [:]
        for record in start.locked { leads[record.id] = record }
        return try Self.lockChains(Set(start.found.values), known: leads, undecodable: &undecodable, store: store)
    }

    /// The undecodable lead row a message's keys lead to (directly or along `merged_into` among
    /// the locked rows), if any: the message cannot be decided and fails alone.
    static func undecodableLead(of keys: [IdentityKey], resolved: [IdentityKey: UUID], leads: [UUID: LeadRecord],
                                undecodable: [UUID: UndecodableLead]) -> UndecodableLead? {
        for key in keys {
            var next = resolved[key]
            var seen = Set<UUID>()
            while let id = next, seen.insert(id).inserted {
                if let failure = undecodable[id] { return failure }
                next = leads[id]?.mergedInto
            }
        }
        return nil
    }
}
