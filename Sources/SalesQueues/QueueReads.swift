import Foundation
import LeadStore
import Postgres

/// Looking at a queue without claiming: its items (cursor paging) and its stats.
/// The queue API reads the primary (a sales tool acts on what it sees); the dashboard's copy is
/// given the read routing (`reader`), so its queue panel reads a fresh enough replica.
package struct QueueReads: Sendable {
    let reader: any ReadPoolChoosing
    /// Where each read goes: the primary, or a replica when `reader` routes there.
    var pool: PostgresPool { reader.pool(forLead: nil) }
    /// Queues the ruleset routes to (known even before their first item).
    let configuredQueues: [String]

    package init(reader: any ReadPoolChoosing, configuredQueues: [String] = []) { self.reader = reader; self.configuredQueues = configuredQueues }
    package init(pool: PostgresPool, configuredQueues: [String] = []) { self.init(reader: pool, configuredQueues: configuredQueues) }

    /// Queues a rep can name: the ruleset's and any that holds items; sorted.
    package func knownQueues() throws -> [String] {
        let used = try pool.withConnection { try Store($0).queueNamesInUse() }
        return Array(Set(configuredQueues + used)).sorted()
    }

    /// Every owner id, sorted.
    package func knownOwners() throws -> [String] {
        try pool.withConnection { try Store($0).ownerIds() }
    }

    /// Summaries of the leads of `items`, by lead id.
    package func leadSummaries(of items: [QueueItem]) throws -> [UUID: LeadSummary] {
        guard !items.isEmpty else { return [:] }
        return try pool.withConnection { try Store($0).leadSummaries(Array(Set(items.map(\.leadId)))) }
    }

    /// What owner `owner` holds across queues (not closed), most urgent first.
    package func ownerItems(owner: String, limit: Int, cursor: UUID?) throws -> Page<QueueItem> {
        try pool.withConnection { try Store($0).ownerItems(owner: owner, limit: limit, cursor: cursor) }
    }

    /// Items of `queue`, optionally only those in `state` or of `owner`.
    package func items(queue: String, state: String?, owner: String?, limit: Int, cursor: UUID?,
                       order: ClaimOrder = .urgency) throws -> Page<QueueItem> {
        try pool.withConnection { try Store($0).queueItems(queue: queue, state: state, owner: owner, limit: limit, cursor: cursor, order: order) }
    }

    /// Open, claimed and breached counts and claim latency of `queue`.
    package func stats(queue: String) throws -> QueueStats {
        try pool.withConnection { try Store($0).queueStats(queue: queue) }
    }
}

/// Owners (load and availability) and the account → owner assignments sales routing reads.
package struct OwnerAdmin: Sendable {
    let pool: PostgresPool
    let clock: @Sendable () -> Date

    /// `clock` stamps account changes (the service clock).
    package init(pool: PostgresPool, clock: @escaping @Sendable () -> Date) { self.pool = pool; self.clock = clock }

    /// Every owner with its load.
    package func owners() throws -> [OwnerView] {
        try pool.withConnection { try Store($0).owners() }
    }

    /// Switches owner `id` on or off for assignment; nil when there is no such owner.
    package func setAvailable(_ id: String, available: Bool) throws -> OwnerView? {
        try pool.withConnection { conn in
            let store = Store(conn)
            guard try store.setOwnerAvailable(id, available: available) else { return nil }
            return try store.owners().first { $0.id == id }
        }
    }

    /// Assigns the account of company `domain` (normalised) to `ownerId`.
    package func assignAccount(domain: String, to ownerId: String) throws {
        try pool.withTransaction { try Store($0).upsertAccounts([(domain, ownerId)], now: clock()) }
    }
}
