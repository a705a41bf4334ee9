import Foundation
import Postgres
import Segmentation

/// Writes the outcome of one evaluation in the caller's transaction — the lead row, current
/// memberships, membership history with reasons, the decision audit row and outbox rows — so
/// ingest, the sweeper and CRM status changes all record a decision the same way. The statements
/// go out in one round trip (pipeline mode), after `before` and before `after`.
struct EvaluationWriter {
    let store: Store

    /// Stores `evaluation` for `leadId` (previously `before`) and returns the decision with its
    /// ids filled in and its JSON document. `recordDecision: false` skips the audit row when
    /// nothing changed (sweeper re-evaluations that only reschedule).
    @discardableResult
    /// `storedState` is the state as the row holds it (nil for a row not written yet): unchanged
    /// JSON columns are then not re-sent.
    func write(leadId: UUID, before: LeadState, storedState: LeadState? = nil, previousPrimary: String?, evaluation: Evaluation, eventId: UUID?,
               recordDecision: Bool = true, before prelude: [PostgresQuery] = [],
               after: (PostgresJSON) -> [PostgresQuery] = { _ in [] }) throws -> (decision: Decision, document: PostgresJSON) {
        var decision = evaluation.decision
        decision.leadId = leadId.uuidString.lowercased()
        decision.eventId = eventId?.uuidString.lowercased()
        let document = DecisionJSON.document(decision)
        let version = decision.rulesetVersion
        let state = evaluation.newState
        var queries = prelude
        queries.append(try store.saveLeadQuery(id: leadId, state: state, primarySegment: decision.primarySegment,
                                               rulesetVersion: version, nextEvaluationAt: decision.nextEvaluationAt?.date,
                                               before: storedState))
        let changed = !decision.segments.entered.isEmpty || !decision.segments.exited.isEmpty
        if changed || Set(before.memberships.keys) != Set(state.memberships.keys) {
            queries += store.syncMembershipsQueries(lead: leadId, current: state.memberships, rulesetVersion: version)
        }
        let at = decision.evaluatedAt.date
        var changes: [MembershipChange] = []
        var outbox: [OutboxMessage] = []
        for (names, change, topic) in [(decision.segments.entered, "entered", OutboxTopic.segmentEntered),
                                       (decision.segments.exited, "exited", OutboxTopic.segmentExited)] {
            for name in names {
                let explanation = decision.explanation.segments[name]
                changes.append(MembershipChange(segment: name, change: change, reason: explanation.map(DecisionJSON.reason)))
                outbox.append(OutboxMessage(topic: topic, leadId: leadId, payload: DecisionJSON.segmentChange(
                    leadId: decision.leadId!, segment: name, change: change, eventId: decision.eventId,
                    rulesetVersion: version, at: decision.evaluatedAt, reason: explanation)))
            }
        }
        if let history = store.appendHistoryQuery(lead: leadId, changes: changes, rulesetVersion: version, eventId: eventId, at: at) {
            queries.append(history)
        }
        if decision.primarySegment != previousPrimary, decision.primarySegment != nil {
            outbox.append(OutboxMessage(topic: .leadRouted, leadId: leadId, payload: document))
        }
        if state.status != before.status {
            outbox.append(OutboxMessage(topic: .leadStatusChanged, leadId: leadId, payload: DecisionJSON.strings([
                "lead_id": decision.leadId!, "from": before.status, "to": state.status, "at": decision.evaluatedAt.description,
            ])))
        }
        if recordDecision || changed {
            queries.append(try store.appendDecisionQuery(lead: leadId, eventId: eventId, decision: decision, document: document))
        }
        if let rows = store.appendOutboxQuery(outbox) { queries.append(rows) }
        try store.run(queries + after(document))
        return (decision, document)
    }
}
