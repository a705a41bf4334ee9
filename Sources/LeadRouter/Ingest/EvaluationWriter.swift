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
        let sales = try SalesRouting(store: store).apply(leadId: leadId, decision: &decision, before: before, after: evaluation.newState)
        let document = try PostgresJSON(encoding: decision, encoder: Decision.jsonEncoder)
        let version = decision.rulesetVersion
        let state = evaluation.newState
        var queries = prelude + sales
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
                let reason = try decision.explanation.segments[name].map { try PostgresJSON(encoding: $0, encoder: Decision.jsonEncoder) }
                changes.append(MembershipChange(segment: name, change: change, reason: reason))
                outbox.append(OutboxMessage(topic: topic, leadId: leadId, payload: try PostgresJSON(encoding: SegmentChangePayload(
                    leadId: decision.leadId!, segment: name, change: change, eventId: decision.eventId,
                    rulesetVersion: version, at: decision.evaluatedAt, reason: decision.explanation.segments[name]),
                    encoder: Decision.jsonEncoder)))
            }
        }
        if let history = store.appendHistoryQuery(lead: leadId, changes: changes, rulesetVersion: version, eventId: eventId, at: at) {
            queries.append(history)
        }
        if decision.primarySegment != previousPrimary, decision.primarySegment != nil {
            outbox.append(OutboxMessage(topic: .leadRouted, leadId: leadId, payload: document))
        }
        if state.status != before.status {
            outbox.append(OutboxMessage(topic: .leadStatusChanged, leadId: leadId, payload: try PostgresJSON(encoding: [
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

/// `data` of `segment.entered` / `segment.exited`.
struct SegmentChangePayload: Encodable {
    var leadId: String
    var segment: String
    var change: String
    var eventId: String?
    var rulesetVersion: Int
    var at: Timestamp
    var reason: SegmentExplanation?

    enum CodingKeys: String, CodingKey {
        case leadId = "lead_id", segment, change, eventId = "event_id", rulesetVersion = "ruleset_version", at, reason
    }
}
