import Foundation
import LeadStore
import OutboundHTTP

/// How webhooks are delivered (the `webhooks:` section of the service configuration).
public struct WebhookSettings: Sendable, Equatable {
    /// Run the dispatcher and delivery workers on this node (`webhooks.enabled`). Subscriptions
    /// and the delivery API work either way; nodes with this off just do not send.
    public var enabled = true
    /// Delivery worker threads: each sends one request at a time, so this bounds how many slow
    /// receivers can be waited on at once.
    public var workers = 4
    /// The delivery machinery's own database connections (dispatcher + workers share them),
    /// separate from the ingest pool so a backlog never takes ingest's connections.
    public var databaseConnections = 3
    /// How often idle workers and the dispatcher look for work.
    public var pollInterval = 0.2
    /// Outbox rows turned into deliveries per dispatcher transaction.
    public var dispatchBatch = 500
    /// Deliveries leased per lease statement at most (at least one per worker): the statement's
    /// cost is mostly fixed, so a batch makes leasing cheap per delivery.
    public var leaseBatch = 64
    /// Backoff after the first failure; doubles each attempt up to `backoffCap`, with jitter.
    public var backoffBase = 5.0
    public var backoffCap = 3600.0
    /// Attempts before dead-letter for subscriptions that do not set their own.
    public var maxAttempts = 12
    /// A delivery still failing this long after its first attempt window opened is dead-lettered.
    public var maxAge = 3 * 86_400.0
    public var timeouts = WebhookHTTPClient.Timeouts()
    /// PEM CA bundle trusted in addition to the system's, for receivers with a private CA.
    public var caFile = ""
    /// Let subscriptions reach loopback, private (RFC 1918), link-local, CGNAT, unique-local and
    /// other non-public addresses (`webhooks.allow_private_networks`). Off by default: a
    /// subscription must not turn the service into a proxy into its own network (cloud metadata
    /// at 169.254.169.254, the database, internal admin ports). `leadrouter dev` turns it on.
    public var allowPrivateNetworks = false
    /// How host names are resolved, for creation-time checks and delivery (tests inject one).
    public var resolver = HostResolver.system
    /// Subscriptions declared in the configuration file; nil leaves configuration-managed
    /// subscriptions in the database untouched.
    public var subscriptions: [NewSubscription]?

    /// All defaults.
    public init() {}

    /// Where subscriptions may point and deliveries may connect; lookups bounded by the connect timeout.
    public var destinationPolicy: DestinationPolicy {
        DestinationPolicy(allowPrivateNetworks: allowPrivateNetworks, resolver: resolver, resolveTimeout: timeouts.connect)
    }

    /// How long a worker holds a lease: twice the longest an attempt can take, plus 5 s. A node
    /// killed mid-attempt delays its deliveries by at most this much.
    var leaseSeconds: Double { 2 * (timeouts.connect + timeouts.response) + 5 }

    /// How long a leased delivery may wait for a worker: an attempt started within it ends (at
    /// most connect + response later) 5 s before its lease does.
    var sendWindow: Double { leaseSeconds - (timeouts.connect + timeouts.response) - 5 }
}

/// Exponential backoff with jitter, and when to give up. Pure: the random draw is an argument.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Double
    public var cap: Double
    public var maxAge: Double

    /// Seconds: first delay, longest delay, and the window after which a delivery is given up.
    public init(base: Double, cap: Double, maxAge: Double) { self.base = base; self.cap = cap; self.maxAge = maxAge }

    /// Seconds until the next attempt after attempt `attempt` (1-based) failed, or nil for dead-letter:
    /// attempts used up, or the next attempt would fall outside the max-age window.
    /// `unit` is a random draw in 0..<1: the delay is uniform in [½·d, d] with d = min(cap, base·2^(attempt−1)),
    /// so many deliveries failing together do not retry in lockstep.
    public func delay(afterAttempt attempt: Int, maxAttempts: Int, windowAge: Double, unit: Double) -> Double? {
        guard attempt < maxAttempts else { return nil }
        let exponential = base * pow(2, Double(min(attempt - 1, 60)))
        let delay = min(cap, exponential) * (0.5 + 0.5 * unit)
        guard windowAge + delay <= maxAge else { return nil }
        return delay
    }
}
