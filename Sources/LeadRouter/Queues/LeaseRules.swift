import Foundation

/// What the lease rules need to know about an item.
public struct LeaseSnapshot: Sendable, Equatable {
    /// `open`, `claimed` or `closed`.
    public var state: String
    /// The token of the current claim.
    public var claimToken: UUID?
    /// When the current claim ends by itself.
    public var leaseUntil: Date?

    /// A snapshot of an item's lease columns.
    public init(state: String, claimToken: UUID?, leaseUntil: Date?) {
        self.state = state; self.claimToken = claimToken; self.leaseUntil = leaseUntil
    }
}

/// A claimer's request on a claimed item.
public enum LeaseOperation: Sendable, Equatable {
    /// Done: the item closes (`acked`) and the lead's CRM status moves to `outcome`.
    case ack(outcome: String)
    /// Give it back: the item is open again, for anyone.
    case release
    /// Keep working: the lease runs `seconds` from now.
    case extend(seconds: Int)
}

/// What to do with the item, decided without I/O (the store applies it under the row lock).
public enum LeaseAction: Sendable, Equatable {
    /// Close with reason `acked` and this outcome.
    case close(outcome: String)
    /// Back to open, no token, no lease.
    case reopen
    /// New lease end.
    case setLease(until: Date)
    /// 409: the token no longer holds the item (why, for the problem document).
    case conflict(String)
}

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
