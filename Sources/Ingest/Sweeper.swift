import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Segmentation

/// Time-based re-evaluation: leads whose `next_evaluation_at` has passed are locked in batches
/// (`FOR UPDATE SKIP LOCKED`, so several nodes share the work without waiting on each other),
/// evaluated at now without an event, and their exits and entries written as an event's would be.
public final class Sweeper: Sendable {
    public let pool: PostgresPool
    /// The active ruleset version's engine, switched in place by an activation.
    public let rules: ActiveEngine
    public var engine: Engine { rules.engine }
    public let batchSize: Int
    /// Pause between sweeps when nothing was due.
    public let interval: Double
    /// What other features do with each decision (the service injects sales routing).
    let decisionHook: any DecisionHook
    let clock: @Sendable () -> Date
    let logger: Logger
    private let job: PeriodicJob
    /// Where undecodable rows are counted and logged (once per lead).
    let quarantine: LeadQuarantine
    /// A pass failing every second while the database is away logs once per window and a count.
    private let logThrottle = LogThrottle()

    /// Leads re-evaluated after an activation per second at most (`rulesets.reevaluation_rate`).
    let reevaluationRate: Int
    /// When the last re-evaluation batch ran (its rate limit).
    let lastReevaluation = Locked<UInt64?>(nil)  // MonotonicClock nanoseconds

    package init(pool: PostgresPool, rules: ActiveEngine, batchSize: Int = 200, interval: Double = 1,
                 decisionHook: any DecisionHook = NoDecisionHook(), clock: @escaping @Sendable () -> Date = Date.init,
                 counters: IngestCounters = IngestCounters(), reevaluationRate: Int = 500, logger: Logger) {
        self.pool = pool; self.rules = rules; self.reevaluationRate = reevaluationRate; self.batchSize = batchSize; self.interval = interval
        self.decisionHook = decisionHook; self.clock = clock; self.logger = logger
        job = PeriodicJob(name: "lr-sweeper", interval: interval)
        quarantine = LeadQuarantine(pool: pool, counters: counters, logger: logger)
    }

    /// Re-evaluates every lead due at the clock's now, batch by batch; returns how many.
    @discardableResult
    public func sweepDue() throws -> Int {
        var total = 0
        while true {
            let count = try sweepBatch()
            total += count
            if count < batchSize { return total }
        }
    }

    /// One batch in one transaction. A due row that cannot be decoded is quarantined in the same
    /// transaction (its schedule cleared) and the others are swept: one bad row never stops the
    /// sweep of the rest. Returns how many due rows the batch took (quarantined ones included).
    func sweepBatch() throws -> Int {
        let now = clock(), engine = self.engine
        let (count, undecodable, new) = try pool.withTransaction { conn in
            let store = Store(conn)
            let (due, undecodable) = try store.dueLeadsForUpdate(now: now, limit: batchSize)
            let new = try store.quarantine(undecodable)
            let pending = PendingStatements(store: store)  // every lead's writes in one round trip
            for lead in due {
                var state = lead.state
                if engine.ruleset.needsBackfill(state) {
                    state = try engine.backfill(state: state, historyOf: lead.id, store: store, now: now)
                }
                let evaluation = engine.evaluate(state: state, now: now)
                try EvaluationWriter(store: store, hook: decisionHook, engine: engine).stage(leadId: lead.id, before: lead.state, storedState: lead.state,
                                                         previousPrimary: lead.primarySegment,
                                                         evaluation: evaluation, eventId: nil, decisionsBefore: lead.decisionSeq,
                                                         recordDecision: false,
                                                         exactSchedule: true, into: pending)
            }
            try pending.flush()
            return (due.count + undecodable.count, undecodable, new)
        }
        quarantine.noted(undecodable, new: new)
        return count
    }

    /// Keeps the monthly `events` partitions ahead of time: this month and the next two exist
    /// before any row for them arrives (a month whose rows already sit in `events_default` can no
    /// longer get a partition of its own). Returns how many partitions it created.
    @discardableResult
    public func ensureEventPartitions() throws -> Int {
        try pool.withConnection { try Store($0).ensureEventPartitions(from: clock(), months: 3) }
    }

    /// Starts the background loop (one thread) until `stop()`. Besides sweeping, it makes sure
    /// the coming months' event partitions exist, once per UTC day.
    public func start() {
        let partitionsCheckedDay = Locked(Int.min)
        job.start { [self] in
            let day = Int(clock().timeIntervalSince1970 / 86_400)
            if day != partitionsCheckedDay.withLock({ $0 }) {
                do {
                    let created = try ensureEventPartitions()
                    partitionsCheckedDay.withLock { $0 = day }
                    if created > 0 { logger.info("created event partitions", metadata: ["partitions.created": "\(created)"]) }
                } catch {
                    logger.throttled(.warning, "could not create event partitions", error: error, by: logThrottle)
                }
            }
            var swept = 0
            do {
                swept = try sweepDue()
                logger.settle(logThrottle, level: .warning)
            } catch {
                logger.throttled(.warning, "sweep failed", error: error, by: logThrottle)
            }
            do {
                try reevaluateAfterActivation()
            } catch {
                logger.throttled(.warning, "re-evaluation after a ruleset activation failed", error: error, by: logThrottle)
            }
            // A sweep that found work looks again at once; an empty one waits the interval.
            return swept == 0 ? .pause : .runAgain
        }
    }

    /// Stops the loop and waits for the current sweep to finish.
    public func stop() { job.stop() }
}
