import Foundation
import Postgres

/// Where a read goes: the primary, or a read replica when one is configured and fresh enough.
/// Declared here so every feature that reads for the CRM (insight, sales queues, privacy's
/// export) can be handed the one routing `Ingest` implements (`ReadRouting`,
/// docs/scale-out.md#read-replicas) without importing `Ingest`; a plain `PostgresPool` is the
/// "primary only" case.
package protocol ReadPoolChoosing: Sendable {
    /// The pool writes and must-be-fresh reads use.
    var primary: PostgresPool { get }
    /// The pool for a read of `leadId` (nil: a read of many leads, or of no lead).
    func pool(forLead leadId: UUID?) -> PostgresPool
    /// Whether this node wrote `leadId` so recently that a replica may not have it yet.
    func wroteRecently(_ leadId: UUID) -> Bool
}

/// A pool on its own reads from itself: no replica, nothing is ever stale.
extension PostgresPool: ReadPoolChoosing {
    package var primary: PostgresPool { self }
    package func pool(forLead leadId: UUID?) -> PostgresPool { self }
    package func wroteRecently(_ leadId: UUID) -> Bool { false }
}
