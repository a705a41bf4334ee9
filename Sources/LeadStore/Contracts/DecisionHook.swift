import Foundation
import Postgres
import Segmentation

/// What another feature does with every decision, in the decision's own transaction. Ingest
/// and the sweeper call it through this protocol so that they need not know who listens: the
/// service injects sales routing (`SalesQueues`), tests may inject nothing.
///
/// Called once per decision with the lead, the decision (ids filled in; the hook may amend it —
/// the answer, the audit row and `lead.routed` carry the amended one) and the lead's state before
/// and after. It returns statements for the same transaction; they run after the staged rows of
/// the lane batch, in decision order. Work that must wait for the end of the transaction (sales
/// routing, whose team lock lasts until commit) goes to `pending.appendLate` instead: the hook
/// then amends the decision when that runs (`LateRoute`). Its statements run planned for index
/// lookups (`Store.indexPlans`).
package protocol DecisionHook: Sendable {
    func decisionMade(leadId: UUID, decision: inout Decision, before: LeadState, after: LeadState,
                      pending: PendingStatements) throws -> [PostgresQuery]
}

/// The hook that does nothing: decisions have no side effects beyond their own rows.
package struct NoDecisionHook: DecisionHook {
    package init() {}

    package func decisionMade(leadId: UUID, decision: inout Decision, before: LeadState, after: LeadState,
                             pending: PendingStatements) throws -> [PostgresQuery] { [] }
}
