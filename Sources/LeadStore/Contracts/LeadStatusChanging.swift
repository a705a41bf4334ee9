import Postgres
import Segmentation

/// Moves a locked lead's CRM status in the caller's transaction: the lead is re-evaluated with
/// the new status and the decision recorded. Implemented by ingest (which owns evaluation and
/// decision writing) and used by the sales queues when an ack carries an outcome, so a queue
/// never re-implements how a decision is stored.
package protocol LeadStatusChanging: Sendable {
    /// Applies `status` to `lead` (locked by the caller) and returns the decision document.
    func applyStatus(_ status: String, to lead: LeadRecord, store: Store) throws -> PostgresJSON
    /// The active ruleset's `sales.outcomes`: what an ack may report, and the status each moves to.
    func salesOutcomes() -> [String: SalesOutcome]
}
