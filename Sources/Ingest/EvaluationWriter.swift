import Foundation
import LeadStore
import Postgres
import Segmentation

/// Writes the outcome of one evaluation in the caller's transaction — the lead row, current
/// memberships, membership history with reasons, the decision audit row and outbox rows — so
/// ingest, the sweeper and CRM status changes all record a decision the same way. It is the one
/// place decisions are written. `stage` adds the rows to a `PendingStatements` (a lane sends
/// those of its whole batch as one set-based statement per table, in one pipeline); `write`
/// stages and sends at once.
struct EvaluationWriter {
    let store: Store
    /// What other features do with each decision (sales routing, injected by the service).
    let hook: any DecisionHook
    /// Whose ruleset's segment owners are named in `segment.*` webhook data (the engine, not a
    /// copy of its ruleset: one retain per evaluation).
    let engine: Engine

    /// Stores `evaluation` for `leadId` (previously `before`) now, in one round trip after
    /// `prelude` and before `after` (three when the decision is routed: `stage`); returns the
    /// decision with its ids filled in and its document, as routed. `after` is given the document
    /// as staged (a sales route's placeholder, see `stage`).
    @discardableResult
    func write(leadId: UUID, before: LeadState, storedState: LeadState? = nil, previousPrimary: String?, evaluation: Evaluation, eventId: UUID?,
               decisionsBefore: Int, recordDecision: Bool = true, before prelude: [PostgresQuery] = [],
               after: (PostgresJSON) -> [PostgresQuery] = { _ in [] }) throws -> (decision: Decision, document: PostgresJSON) {
        let pending = PendingStatements(store: store)
        pending.append(contentsOf: prelude)
        let written = try stage(leadId: leadId, before: before, storedState: storedState, previousPrimary: previousPrimary,
                                evaluation: evaluation, eventId: eventId, decisionsBefore: decisionsBefore,
                                recordDecision: recordDecision, into: pending)
        pending.append(contentsOf: after(written.document))
        try pending.flush()
        guard let late = written.late, let routed = late.document else { return (written.decision, written.document) }
        return (late.decision, routed)
    }

    /// Stages the statements storing `evaluation` for `leadId` (previously `before`) in `pending`
    /// and returns the decision with its ids filled in and its JSON document.
    /// `storedState` is the state as the row holds it once the statements staged before run (nil
    /// for a row not written yet): unchanged JSON columns are then not re-sent.
    /// `recordDecision: false` skips the audit row when nothing changed (sweeper re-evaluations
    /// that only reschedule). `exactSchedule` stores the evaluation's `next_evaluation_at` even
    /// when the row holds an earlier one (the sweeper, which must move a lead's schedule on);
    /// otherwise the earlier time stays (see `Store.leadSaveQueries`).
    /// `cause` (e.g. `ruleset_changed`) is written into each membership change's stored reason,
    /// for changes no event or passing time caused.
    /// `rerank` rewrites every scored membership's rank key (after an activation: the key depends
    /// on the segment's half-life, which the new version may change; see `SegmentRank`).
    /// `decisionsBefore` is the lead's decision count (`LeadRecord.decisionSeq`, as the staged
    /// statements leave it); a recorded decision takes the next number, and the returned
    /// `decisions` is the count to stage next. `occurredAt` is the evaluated event's time.
    /// A decision with a sales route is routed when `pending` flushes (`late`): until then the
    /// returned document is the route's placeholder (staged as such in the decision row,
    /// `lead.routed` and the idempotency answer, replaced by the flush), and the returned
    /// decision has no owner yet; after the flush `pending.resolve` gives the routed document.
    @discardableResult
    func stage(leadId: UUID, before: LeadState, storedState: LeadState? = nil, previousPrimary: String?, evaluation: Evaluation,
               eventId: UUID?, occurredAt: Date? = nil, decisionsBefore: Int, recordDecision: Bool = true, exactSchedule: Bool = false,
               cause: String? = nil, rerank: Bool = false, into pending: PendingStatements)
        throws -> (decision: Decision, document: PostgresJSON, decisions: Int, late: LateRoute?) {
        var decision = evaluation.decision
        decision.leadId = leadId.lowercasedText
        decision.eventId = eventId?.lowercasedText
        decision.occurredAt = occurredAt.map(Timestamp.init)
        let changed = !decision.segments.entered.isEmpty || !decision.segments.exited.isEmpty
        let recorded = recordDecision || changed
        let decisions = recorded ? decisionsBefore + 1 : decisionsBefore
        if recorded { decision.sequence = decisions }
        let state = evaluation.newState
        let lateBefore = pending.late.count
        let hooked = try hook.decisionMade(leadId: leadId, decision: &decision, before: before, after: state, pending: pending)
        // Routed at the end of the batch (`LateRoute`): its document stands in until then.
        var late: LateRoute?
        for step in pending.late.dropFirst(lateBefore) { if case .route(let route) = step { late = route } }
        late?.render = DecisionJSON.document
        let document = late?.placeholder ?? DecisionJSON.document(decision)
        let version = decision.rulesetVersion
        pending.append(contentsOf: hooked)
        pending.rows.saveLead(leadId, state: state, stored: storedState, primarySegment: decision.primarySegment,
                              rulesetVersion: version, nextEvaluationAt: decision.nextEvaluationAt?.date,
                              membershipsChanged: changed || Set(before.memberships.keys) != Set(state.memberships.keys),
                              exactSchedule: exactSchedule, decisionSeq: decisions,
                              ranks: engine.ruleset.segmentRanks(state),
                              storedRanks: rerank ? [:] : storedState.map(engine.ruleset.segmentRanks))
        let at = decision.evaluatedAt.date
        var outbox: [OutboxMessage] = []
        for (names, change, topic) in [(decision.segments.entered, "entered", OutboxTopic.segmentEntered),
                                       (decision.segments.exited, "exited", OutboxTopic.segmentExited)] {
            for name in names {
                let explanation = decision.explanation.segments[name]
                pending.rows.history.append(StagedWrites.HistoryRow(
                    leadId: leadId, change: MembershipChange(segment: name, change: change, reason: explanation.map { DecisionJSON.reason($0, cause: cause) }),
                    rulesetVersion: version, eventId: eventId, at: at))
                outbox.append(OutboxMessage(topic: topic, leadId: leadId, payload: DecisionJSON.segmentChange(
                    leadId: decision.leadId!, segment: name, owner: engine.ruleset.owner(of: name), change: change, eventId: decision.eventId,
                    rulesetVersion: version, at: decision.evaluatedAt, reason: explanation)))
            }
        }
        stageRows(leadId: leadId, before: before, after: state, evaluation: evaluation, decision: decision, eventId: eventId,
                  cause: cause, at: at, into: pending)
        for goal in evaluation.goalsReached {
            pending.rows.goals.append(StagedWrites.GoalRow(leadId: leadId, segment: goal.segment, enteredAt: goal.enteredAt.date, reachedAt: at))
        }
        if engine.ruleset.hasExperiments {
            ExperimentRecording.stage(decision, goals: evaluation.goalsReached, leadId: leadId, at: at, into: &pending.rows.experiments)
        }
        if decision.primarySegment != previousPrimary, decision.primarySegment != nil {
            outbox.append(OutboxMessage(topic: .leadRouted, leadId: leadId, payload: document))
        }
        if state.status != before.status {
            outbox.append(OutboxMessage(topic: .leadStatusChanged, leadId: leadId, payload: DecisionJSON.strings([
                "lead_id": decision.leadId!, "from": before.status, "to": state.status, "at": decision.evaluatedAt.description,
            ])))
        }
        if recorded {
            pending.rows.decisions.append(StagedWrites.DecisionRow(leadId: leadId, eventId: eventId, rulesetVersion: version,
                                                                   evaluatedAt: at, seq: decisions, document: document))
        }
        pending.rows.outbox += outbox
        return (decision, document, decisions, late)
    }
}
