import Essentials
import Foundation
import LeadStore
import Postgres
import Segmentation

extension Sweeper {
    /// The stored reason's `cause` of a membership change an activation made.
    static let rulesetChangedCause = "ruleset_changed"

    /// After an activation, walks every live lead once (id order, `reevaluationRate` leads a
    /// second at most across this node's sweeps) and re-evaluates it under the new version: the
    /// leads whose memberships change get a decision and history rows whose reason says
    /// `ruleset_changed` with the version; every lead gets the new version's schedule. Nothing
    /// happens until this node runs the activated version. Returns how many leads were done.
    @discardableResult
    public func reevaluateAfterActivation() throws -> Int {
        let now = MonotonicClock.nanoseconds()
        let due = lastReevaluation.withLock { last -> Bool in
            if let last, now - last < 1_000_000_000 { return false }
            last = now
            return true
        }
        guard due else { return 0 }
        return try reevaluationBatch(limit: reevaluationRate).reevaluated
    }

    /// One batch of at most `limit` leads in one transaction; `finished` when the walk is over (or
    /// there was none). Tests call it directly; the loop calls it through the rate limit.
    @discardableResult
    public func reevaluationBatch(limit: Int) throws -> (reevaluated: Int, changed: Int, finished: Bool) {
        let now = clock(), engine = self.engine
        let outcome = try pool.withTransaction { conn -> (Int, Int, Bool, [UndecodableLead], Set<UUID>) in
            let store = Store(conn)
            guard let activation = try store.openActivationForUpdate() else { return (0, 0, true, [], []) }
            guard activation.version == engine.ruleset.version else { return (0, 0, false, [], []) }
            let (leads, undecodable) = try store.leadsForReevaluation(after: activation.reevaluatedThrough, limit: limit)
            let new = try store.quarantine(undecodable)
            let pending = PendingStatements(store: store)
            var changed = 0
            for lead in leads {
                var state = lead.state
                if engine.ruleset.needsBackfill(state) {
                    state = try engine.backfill(state: state, historyOf: lead.id, store: store, now: now)
                }
                let evaluation = engine.evaluate(state: state, now: now)
                if Set(evaluation.newState.memberships.keys) != Set(lead.state.memberships.keys) { changed += 1 }
                try EvaluationWriter(store: store, hook: decisionHook, engine: engine).stage(
                    leadId: lead.id, before: lead.state, storedState: lead.state, previousPrimary: lead.primarySegment,
                    evaluation: evaluation, eventId: nil, decisionsBefore: lead.decisionSeq, recordDecision: false,
                    exactSchedule: true, cause: Self.rulesetChangedCause, rerank: true, into: pending)
            }
            try pending.flush()
            let last = (leads.map(\.id) + undecodable.map(\.id)).max { $0.uuidString < $1.uuidString }
            let finished = leads.count + undecodable.count < limit
            try store.advanceActivation(activation.id, through: last, reevaluated: leads.count, changed: changed, finished: finished)
            return (leads.count, changed, finished, undecodable, new)
        }
        quarantine.noted(outcome.3, new: outcome.4)
        return (outcome.0, outcome.1, outcome.2)
    }
}
