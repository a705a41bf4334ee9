import Foundation
import LeadStore

/// The rules of a lease: a claim token is good while the item is claimed under that very token
/// and the lease has not run out. An expired lease is as good as gone even before the worker
/// reopens the item, so two claimers can never both act on it.
public enum LeaseRules {
    /// The action for `operation` presented with `token` at `now`.
    public static func decide(_ item: LeaseSnapshot, token: UUID, operation: LeaseOperation, now: Date) -> LeaseAction {
        guard item.state == "claimed" else {
            return .conflict(item.state == "closed" ? "the item is closed" : "the item is not claimed (its lease ended)")
        }
        guard item.claimToken == token else { return .conflict("the claim token is stale: the item was claimed again") }
        guard let until = item.leaseUntil, until > now else { return .conflict("the lease expired") }
        switch operation {
        case let .ack(outcome): return .close(outcome: outcome)
        case .release: return .reopen
        case let .extend(seconds): return .setLease(until: now.addingTimeInterval(Double(seconds)))
        }
    }

    /// Whether a claimed item's lease has run out at `now` (the worker then reopens it).
    public static func isExpired(_ item: LeaseSnapshot, now: Date) -> Bool {
        item.state == "claimed" && (item.leaseUntil.map { $0 <= now } ?? true)
    }
}
