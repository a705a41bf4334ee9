import Foundation
import LeadStore
import Postgres
import Segmentation

/// The sales side of one decision, in the decision's own transaction: the lead's one open item
/// is created (with an owner: account → territory → strategy → unassigned), updated, or moved
/// to the routed queue (a higher-priority sales segment), and closed when the lead leaves the
/// segment that routed it or its status becomes converted or unsubscribed. The lead row's
/// `owner_id` is the open item's owner at commit (migrations/0011). The decision's sales action is filled in (owner,
/// how they were chosen, whom assignment skipped and why), so the answer and the audit row say it.
package struct SalesRouting: DecisionHook {
    package init() {}

    /// Statuses that take a lead out of every queue (the status is the close reason).
    static let closingStatuses: Set<String> = ["converted", "unsubscribed"]

    /// Leaves the decision's sales work for the end of the transaction (`LateRoute`): its closes,
    /// then its routing, in decision order with those of the other decisions of the batch, run by
    /// `pending` after every other row of the batch went out and just before the decisions and the
    /// COMMIT, so the team's round-robin row is locked for the assignment and the commit only.
    /// The decision's sales action (owner, how they were chosen, whom assignment skipped and why)
    /// is filled in then, so the answer, the audit row and `lead.routed` say it. Returns no
    /// statement to run now.
    package func decisionMade(leadId: UUID, decision: inout Decision, before: LeadState, after: LeadState,
                              pending: PendingStatements) throws -> [PostgresQuery] {
        let store = pending.store
        let now = decision.evaluatedAt.date
        if after.status != before.status, Self.closingStatuses.contains(after.status) {
            pending.appendLate(.statements([store.closeQueueItemsQuery(lead: leadId, segments: nil, reason: after.status, now: now)]))
            return []
        }
        if !decision.segments.exited.isEmpty {
            pending.appendLate(.statements([store.closeQueueItemsQuery(lead: leadId, segments: decision.segments.exited,
                                                                       reason: "exited_segment", now: now)]))
        }
        // A customer may be routed again (a retention route: account management); an
        // unsubscribed lead never is.
        guard after.status != "unsubscribed",
              let index = decision.actions.firstIndex(where: { $0.channel == "sales" && $0.queue != nil }) else { return [] }
        let action = decision.actions[index]
        // A segment with its own `score:` ranks its members by it: their items take it as their
        // priority (claims by priority follow it); otherwise the lead score.
        let priority = decision.segmentScores?[action.segment] ?? decision.score
        let request = RouteRequest(lead: leadId, queue: action.queue!, segment: action.segment, team: action.team,
                                   priority: priority, slaDueAt: action.slaDueAt?.date,
                                   country: after.country, shipToRegion: after.shipToRegion,
                                   companyDomain: after.company.domain,
                                   memberSince: after.memberships[action.segment]?.date, now: now)
        pending.appendLate(.route(LateRoute(request: request, decision: decision) { decision, routed in
            Self.apply(routed, to: &decision, action: index, store: store, leadId: leadId)
        }))
        return []
    }

    /// Fills the sales action at `index` of `decision` from what routing answered; returns the
    /// statement recording the owner on the lead row (written before it, in the same batch).
    static func apply(_ routed: RoutedItem, to decision: inout Decision, action index: Int, store: Store, leadId: UUID) -> [PostgresQuery] {
        var action = decision.actions[index]
        if routed.acked == true {
            // Sales worked this lead since it entered the segment (the ack may be this very
            // transaction's): no sales action points at the closed item.
            decision.actions.remove(at: index)
            decision.suppressed.append(SuppressedAction(channel: "sales", reason: "acked: item \(routed.itemId.uuidString.lowercased()) was worked since the lead entered \(action.segment)"))
            return []
        }
        action.itemId = routed.itemId.uuidString.lowercased()
        action.ownerId = routed.ownerId
        action.assignedBy = routed.assignedBy
        action.skipped = routed.skipped ?? []
        action.movedFrom = routed.movedFrom?.queue
        if routed.moved == true, let due = routed.movedSLADueAt { action.slaDueAt = due }
        if let team = routed.teamId { action.team = team }
        decision.actions[index] = action
        // The lead row may be written in the same batch: the owner goes on it then.
        return routed.isOpen ? [store.setLeadOwnerQuery(lead: leadId, owner: routed.ownerId)] : []
    }
}
