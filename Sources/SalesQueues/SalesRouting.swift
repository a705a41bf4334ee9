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

    /// Routes `decision` (mutating its sales action) and returns the statements to pipeline after
    /// the lead row is written: closes and the lead's owner. The routing itself runs now, as one
    /// statement (its reference to a new lead row is checked at commit), after any queue
    /// statements earlier decisions of the batch left in `pending` (a close staged for an item
    /// must not run after this decision re-opened or updated it).
    package func decisionMade(leadId: UUID, decision: inout Decision, before: LeadState, after: LeadState,
                              pending: PendingStatements) throws -> [PostgresQuery] {
        let store = pending.store
        let now = decision.evaluatedAt.date
        var queries: [PostgresQuery] = []
        if after.status != before.status, Self.closingStatuses.contains(after.status) {
            queries.append(store.closeQueueItemsQuery(lead: leadId, segments: nil, reason: after.status, now: now))
            return queries
        }
        if !decision.segments.exited.isEmpty {
            queries.append(store.closeQueueItemsQuery(lead: leadId, segments: decision.segments.exited, reason: "exited_segment", now: now))
        }
        // A customer may be routed again (a retention route: account management); an
        // unsubscribed lead never is.
        guard after.status != "unsubscribed",
              let index = decision.actions.firstIndex(where: { $0.channel == "sales" && $0.queue != nil }) else { return queries }
        var action = decision.actions[index]
        if !pending.queries.isEmpty { try pending.flush() }
        // A segment with its own `score:` ranks its members by it: their items take it as their
        // priority (claims by priority follow it); otherwise the lead score.
        let priority = decision.segmentScores?[action.segment] ?? decision.score
        let routed = try store.routeToQueue(lead: leadId, queue: action.queue!, segment: action.segment, team: action.team,
                                            priority: priority, slaDueAt: action.slaDueAt?.date,
                                            country: after.country, shipToRegion: after.shipToRegion,
                                            companyDomain: after.company.domain,
                                            memberSince: after.memberships[action.segment]?.date, now: now)
        if routed.acked == true {
            // Sales worked this lead since it entered the segment (the ack may be this very
            // transaction's): no sales action points at the closed item.
            decision.actions.remove(at: index)
            decision.suppressed.append(SuppressedAction(channel: "sales", reason: "acked: item \(routed.itemId.uuidString.lowercased()) was worked since the lead entered \(action.segment)"))
            return queries
        }
        action.itemId = routed.itemId.uuidString.lowercased()
        action.ownerId = routed.ownerId
        action.assignedBy = routed.assignedBy
        action.skipped = routed.skipped ?? []
        action.movedFrom = routed.movedFrom?.queue
        if routed.moved == true, let due = routed.movedSLADueAt { action.slaDueAt = due }
        if let team = routed.teamId { action.team = team }
        decision.actions[index] = action
        if routed.isOpen {
            // A brand-new lead's row is written after its item: the owner goes on it then.
            queries.append(store.setLeadOwnerQuery(lead: leadId, owner: routed.ownerId))
        }
        return queries
    }
}
