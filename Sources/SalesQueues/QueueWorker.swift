import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// Periodic queue upkeep on every node (rows are taken with `FOR UPDATE SKIP LOCKED`, so nodes
/// share the work): expired leases go back to open, and items not acked by their SLA due time
/// (claimed, released or expired alike: the SLA runs until the first touch) breach once — a `queue.sla_breached` outbox row and, when the team names `escalate_to`,
/// reassignment to that team.
public final class QueueWorker: Sendable {
    let pool: PostgresPool
    let interval: Double
    let batchSize: Int
    let clock: @Sendable () -> Date
    let logger: Logger
    private let job: PeriodicJob
    /// A round failing every second while the database is away logs once per window and a count.
    private let logThrottle = LogThrottle()

    /// A worker on `pool` running every `interval` seconds, `batchSize` rows per transaction, at `clock`'s now.
    public init(pool: PostgresPool, interval: Double = 1, batchSize: Int = 200, clock: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.pool = pool; self.interval = interval; self.batchSize = batchSize; self.clock = clock; self.logger = logger
        job = PeriodicJob(name: "lr-queues", interval: interval)
    }

    /// Reopens every lease expired at the clock's now; returns how many.
    @discardableResult
    public func reopenExpiredLeases() throws -> Int {
        var total = 0
        while true {
            let n = try pool.withTransaction { try Store($0).reopenExpiredLeases(now: clock(), limit: batchSize) }
            total += n
            if n < batchSize { return total }
        }
    }

    /// Escalates every item whose SLA is due at the clock's now; returns how many.
    @discardableResult
    public func escalateBreaches() throws -> Int {
        var total = 0
        while true {
            let n = try pool.withTransaction { conn in try escalate(Store(conn)) }
            total += n
            if n < batchSize { return total }
        }
    }

    func escalate(_ store: Store) throws -> Int {
        let now = clock()
        let due = try store.breachedItemsForUpdate(now: now, limit: batchSize)
        var outbox: [OutboxMessage] = []
        for breach in due {
            let item = breach.item
            // A claimed item is being worked: its breach is recorded, its owner stays.
            let escalation = try breach.escalateTo.flatMap { team in item.state == "open" ? team : nil }.map {
                try store.assignOwner(team: $0, country: breach.country, shipToRegion: breach.shipToRegion,
                                      companyDomain: breach.companyDomain, now: now)
            }
            try store.markBreached(item: item.id, now: now, escalation: escalation)
            outbox.append(OutboxMessage(topic: .queueSLABreached, leadId: item.leadId, payload: try PostgresJSON(
                encoding: SLABreachPayload(itemId: item.id.uuidString.lowercased(), queue: item.queue, leadId: item.leadId.uuidString.lowercased(),
                                           teamId: item.teamId, ownerId: item.ownerId, slaDueAt: item.slaDueAt ?? now, breachedAt: now,
                                           escalatedTo: escalation),
                encoder: SLABreachPayload.encoder)))
        }
        try store.appendOutbox(outbox)
        return due.count
    }

    /// Starts the loop (one thread) until `stop()`.
    public func start() {
        job.start { [self] in
            do {
                let reopened = try reopenExpiredLeases()
                let escalated = try escalateBreaches()
                if reopened + escalated > 0 {
                    logger.info("queue upkeep", metadata: ["leases.reopened": "\(reopened)", "sla.escalated": "\(escalated)"])
                }
                logger.settle(logThrottle, level: .warning)
            } catch {
                logger.throttled(.warning, "queue upkeep failed", error: error, by: logThrottle)
            }
            return .pause
        }
    }

    /// Stops the loop and waits for the current round to finish.
    public func stop() { job.stop() }
}

/// `data` of `queue.sla_breached`.
struct SLABreachPayload: Encodable {
    var itemId: String
    var queue: String
    var leadId: String
    var teamId: String?
    /// The owner before escalation.
    var ownerId: String?
    var slaDueAt: Date
    var breachedAt: Date
    /// The new team and owner, when the team names `escalate_to`.
    var escalatedTo: RoutedAssignment?

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    enum CodingKeys: String, CodingKey {
        case itemId = "item_id", queue, leadId = "lead_id", teamId = "team_id", ownerId = "owner_id", slaDueAt = "sla_due_at"
        case breachedAt = "breached_at", escalatedTo = "escalated_to"
    }
}
