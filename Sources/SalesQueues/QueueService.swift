import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Segmentation

/// The next step of a long-polling claim, decided without I/O.
public enum LongPollStep: Equatable, Sendable {
    /// Answer now with what was claimed (possibly nothing).
    case answer
    /// Sleep until the queue is notified or this deadline passes, then try again.
    case wait(until: Date)

    /// After a claim attempt that got `claimed` items at `now`, with the poll ending at `deadline`.
    public static func next(claimed: Int, now: Date, deadline: Date) -> LongPollStep {
        claimed > 0 || now >= deadline ? .answer : .wait(until: deadline)
    }
}

/// The claimer's side of the sales queues: claim (with leases and long polling), ack, release,
/// extend. Every step is one short transaction; a long poll holds no connection while it waits.
public final class QueueService: Sendable {
    /// How a claim ended.
    public struct ClaimResult: Sendable {
        /// The claimed items, claim order, each with its token.
        public var items: [QueueItem]
        /// True when a NOTIFY woke the poll (false: it found items at once, or the wait ran out).
        public var wokenByNotify: Bool
    }

    /// What happened to an ack, release or extend.
    public enum LeaseResult: Sendable {
        case done(QueueItem)
        case conflict(String)
        case notFound
        /// An owner-bound key acting on an item it does not hold as its owner (the detail says why).
        case notHolder(String)
    }

    /// Too many long polls wait already: answer 503 with Retry-After.
    public struct TooManyWaiters: Error {}

    /// Connections for claims and leases (none is held while a long poll waits).
    public let pool: PostgresPool
    /// Long-poll wake-ups and the cap on waiting claims.
    public let waiters: QueueWaiters
    /// Lease expiry and SLA escalation.
    public let worker: QueueWorker
    /// Moves the lead's status on ack (ingest, injected by the service).
    let statuses: any LeadStatusChanging
    package let clock: @Sendable () -> Date
    let logger: Logger
    private let workerRunning = Locked(false)

    /// The service; `statuses` moves a lead's status on ack, `clock` is the service clock.
    package init(pool: PostgresPool, statuses: any LeadStatusChanging, waiters: QueueWaiters, worker: QueueWorker,
                 clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.pool = pool; self.statuses = statuses; self.waiters = waiters; self.worker = worker
        self.clock = clock; self.logger = logger
    }

    /// Starts listening for queue NOTIFYs (long polls) and, with `runWorker`, the upkeep loop.
    public func start(runWorker: Bool) {
        waiters.start()
        if runWorker { worker.start(); workerRunning.withLock { $0 = true } }
    }

    /// Ends every long poll (they answer with what they have) and stops the upkeep loop.
    public func stop() {
        waiters.stop()
        if workerRunning.withLock({ let was = $0; $0 = false; return was }) { worker.stop() }
    }

    /// Claims per `request`. With `waitSeconds` > 0 and nothing to claim, it waits (real time,
    /// not the injected clock) for a NOTIFY of the queue and tries again, until the wait ends.
    public func claim(queue: String, request: ClaimRequest, claimer: String) throws -> ClaimResult {
        let attempt = { [self] in
            // One statement, atomic on its own: no BEGIN/COMMIT round trips.
            try pool.withConnection { conn in
                try Store(conn).claim(queue: queue, owner: request.ownerId, claimer: request.ownerId ?? claimer,
                                      limit: request.limit, leaseSeconds: request.leaseSeconds, now: clock(), order: request.order)
            }
        }
        guard request.waitSeconds > 0 else { return ClaimResult(items: try attempt(), wokenByNotify: false) }
        guard waiters.admit() else { throw TooManyWaiters() }
        defer { waiters.leave() }
        let deadline = Date().addingTimeInterval(Double(request.waitSeconds))
        var woken = false
        while true {
            let seen = waiters.version(of: queue)
            let items = try attempt()
            switch LongPollStep.next(claimed: items.count, now: Date(), deadline: deadline) {
            case .answer:
                return ClaimResult(items: items, wokenByNotify: woken && !items.isEmpty)
            case let .wait(until):
                if waiters.wait(queue: queue, seen: seen, until: until) { woken = true } else if waiters.isStopped {
                    return ClaimResult(items: [], wokenByNotify: false)
                }
            }
        }
    }

    /// Acks, releases or extends item `id` of `queue` with `request.token`. An ack closes the
    /// item and moves the lead's CRM status (re-evaluated and recorded as a decision) in the same
    /// transaction. The lead row is locked before the item, in the order ingest locks them.
    /// An ack's outcome must be one the ruleset's `sales.outcomes` names (else 400 listing them).
    /// With `holder` (an owner-bound key's owner), only an item claimed as that owner may be
    /// acted on.
    public func lease(queue: String, item id: UUID, request: LeaseRequest, holder: String? = nil) throws -> LeaseResult {
        var outcome: SalesOutcome?
        if case let .ack(name) = request.operation {
            let known = statuses.salesOutcomes()
            guard let found = known[name] else {
                throw QueueRequestError(errors: [QueueFieldError(pointer: "/outcome", detail:
                    "unknown outcome '\(name)': use one of \(known.keys.sorted().joined(separator: ", ")) (free text goes to note)")])
            }
            outcome = found
        }
        return try pool.withTransaction { conn in
            let store = Store(conn)
            guard let peek = try store.queueItems(ids: [id], queue: queue).first else { return .notFound }
            var lead: LeadRecord?
            if case .ack = request.operation, let live = try store.liveLead(peek.leadId) {
                lead = try store.leadsForUpdate([live.id]).first
            }
            guard let item = try store.queueItemForUpdate(id, queue: queue) else { return .notFound }
            let now = clock()
            let action = LeaseRules.decide(item.lease, token: request.token, operation: request.operation, now: now)
            if case let .conflict(why) = action { return .conflict(why) }
            if let holder, item.claimedBy != holder {
                return .notHolder("this key is bound to owner '\(holder)'; the item is held by \(item.claimedBy.map { "'\($0)'" } ?? "nobody")")
            }
            try store.applyLease(action, item: id, now: now)
            if case .close = action {
                if let note = request.note { try store.setQueueItemNote(id, note: note) }
                // The outcome's status move, re-evaluated and recorded as a decision; the item is
                // closed first, so that decision routes no sales action to it.
                if let status = outcome?.status, let lead { _ = try statuses.applyStatus(status, to: lead, store: store) }
            }
            return .done(try store.queueItems(ids: [id], queue: queue).first!)
        }
    }
}
