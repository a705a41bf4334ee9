import Foundation
import LeadStore
import Segmentation

extension EvaluationWriter {
    /// Stages the lead's stage change, if this decision made one, and the stage goals that held
    /// (the stage funnel, migration 0048), at the decision's time: the engine's `now`.
    /// The reason says what moved the stage: an event, a CRM (or queue ack) status change, the
    /// re-evaluation after a ruleset activation (`cause`), or otherwise time passing (the sweeper).
    func stageRows(leadId: UUID, before: LeadState, after: LeadState, evaluation: Evaluation, decision: Decision,
                   eventId: UUID?, cause: String?, at: Date, into pending: PendingStatements) {
        if before.stage != after.stage {
            let reason = eventId != nil ? "event"
                : cause != nil ? "ruleset_change"
                : decision.explanation.status?.by == "crm" ? "crm" : "time_based"
            pending.rows.stages.changes.append(StageWrites.Change(
                leadId: leadId, from: before.stage, to: after.stage, reason: reason, rulesetVersion: decision.rulesetVersion,
                eventId: eventId, at: at))
        }
        for goal in evaluation.stageGoalsHeld {
            pending.rows.stages.goals.append(StageWrites.Goal(leadId: leadId, stage: goal.stage, reachedAt: at,
                                                              withinMilliseconds: goal.withinMilliseconds))
        }
    }
}
