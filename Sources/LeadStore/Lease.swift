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
