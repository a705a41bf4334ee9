import Essentials
import Foundation
import Postgres
import Segmentation

/// What `leadrouter_route_to_queue` is asked for one decision's sales action.
package struct RouteRequest: Sendable {
    package var lead: UUID
    package var queue: String
    package var segment: String
    package var team: String?
    package var priority: Double
    package var slaDueAt: Date?
    package var country: String?
    package var shipToRegion: String?
    package var companyDomain: String?
    package var memberSince: Date?
    package var now: Date

    package init(lead: UUID, queue: String, segment: String, team: String?, priority: Double, slaDueAt: Date?,
                 country: String?, shipToRegion: String?, companyDomain: String?, memberSince: Date?, now: Date) {
        self.lead = lead; self.queue = queue; self.segment = segment; self.team = team; self.priority = priority
        self.slaDueAt = slaDueAt; self.country = country; self.shipToRegion = shipToRegion; self.companyDomain = companyDomain
        self.memberSince = memberSince; self.now = now
    }
}

/// A decision whose sales routing waits for the end of its transaction (`PendingStatements`
/// runs it, after every other row of the batch went out and just before the decisions, outbox
/// rows and COMMIT). Assignment locks the team's `round_robin_state` row until commit: routed
/// here, the row is held for the assignment and the commit only, not for the rest of the batch
/// (issue 23, target 5; docs/queues.md#assignment).
///
/// Until it is routed, the decision's document is `placeholder` wherever it was staged (decision
/// row, `lead.routed`, idempotency answer, the caller's result); `PendingStatements` puts the
/// real one (`document`) in its rows, and callers swap it into what they return
/// (`PendingStatements.resolved`).
package final class LateRoute {
    package let request: RouteRequest
    /// The decision as staged, then as routed.
    package private(set) var decision: Decision
    /// Fills the decision's sales action from what routing answered; returns the statements
    /// recording the lead's owner on its row, run after the batch's rows — not for a lead the
    /// batch inserts, whose INSERT carries the owner (`PendingStatements.routeLate`). Set by the
    /// hook that staged the route.
    let route: (inout Decision, RoutedItem) throws -> [PostgresQuery]
    /// The decision's JSON document (set by whoever writes the decision).
    package var render: (Decision) -> PostgresJSON = { _ in PostgresJSON(rawBytes: Array("{}".utf8)) }
    /// Stands for the document until the route ran: unique bytes, so it is found and replaced.
    package let placeholder = PostgresJSON(rawBytes: Array("{\"pending_route\":\"\(UUID.random().uuidString)\"}".utf8))
    /// The document once routed.
    package private(set) var document: PostgresJSON?

    package init(request: RouteRequest, decision: Decision, route: @escaping (inout Decision, RoutedItem) throws -> [PostgresQuery]) {
        self.request = request; self.decision = decision; self.route = route
    }

    /// Applies what routing answered; returns the statements to run after the batch's rows.
    func finish(_ routed: RoutedItem) throws -> [PostgresQuery] {
        var routedDecision = decision
        let after = try route(&routedDecision, routed)
        decision = routedDecision
        document = render(routedDecision)
        return after
    }
}

/// One step of the sales work a batch left for its end, in decision order: statements (closes
/// of items) or a decision to route.
package enum LateStep {
    case statements([PostgresQuery])
    case route(LateRoute)
}
