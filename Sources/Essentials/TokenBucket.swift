/// A token bucket: `burst` tokens, refilled at `rate` per second; each request takes one.
///
/// A pure state machine: the caller passes `now` (seconds on a monotonic scale, e.g.
/// `MonotonicClock.nanoseconds() / 1e9`), so tests drive it with any clock. A new bucket is full.
/// Not synchronised: keep it behind a lock (rate limiters keep many in a `Locked<LRUCache>`).
public struct TokenBucket: Sendable, Equatable {
    /// Rate and burst of a bucket. A rate of 0 means no limit.
    public struct Limit: Sendable, Equatable {
        /// Tokens added per second; 0 = unlimited.
        public var rate: Double
        /// Most tokens held (requests allowed at once after a quiet period); at least 1.
        public var burst: Double

        public init(rate: Double, burst: Double) {
            self.rate = max(0, rate)
            self.burst = max(1, burst)
        }

        /// No limit at all.
        public static let unlimited = Limit(rate: 0, burst: 1)

        /// Whether this limit limits anything.
        public var isUnlimited: Bool { rate <= 0 }
    }

    /// What `consume` decided.
    public enum Outcome: Sendable, Equatable {
        /// A token was taken.
        case allowed
        /// No token: try again after `retryAfter` seconds (when one will have been refilled).
        case limited(retryAfter: Double)

        /// `Retry-After` for HTTP: whole seconds, rounded up, at least 1.
        public var retryAfterSeconds: Int? {
            guard case .limited(let seconds) = self else { return nil }
            return max(1, Int(seconds.rounded(.up)))
        }
    }

    public let limit: Limit
    /// Tokens held at `updated` (fractional while refilling).
    public private(set) var tokens: Double
    /// When `tokens` was last brought up to date.
    public private(set) var updated: Double

    /// A full bucket as of `now`.
    public init(limit: Limit, now: Double) {
        self.limit = limit
        self.tokens = limit.burst
        self.updated = now
    }

    /// Takes one token if there is one.
    public mutating func consume(now: Double) -> Outcome {
        guard !limit.isUnlimited else { return .allowed }
        refill(now: now)
        if tokens >= Self.oneToken {
            tokens -= 1
            return .allowed
        }
        return .limited(retryAfter: (1 - tokens) / limit.rate)
    }

    /// What `consume` would answer, without taking a token.
    public mutating func check(now: Double) -> Outcome {
        guard !limit.isUnlimited else { return .allowed }
        refill(now: now)
        return tokens >= Self.oneToken ? .allowed : .limited(retryAfter: (1 - tokens) / limit.rate)
    }

    /// Whether the bucket is full again at `now` (a full bucket is the same as a forgotten one).
    public func isFull(now: Double) -> Bool {
        limit.isUnlimited || tokens + max(0, now - updated) * limit.rate >= limit.burst
    }

    /// One token, less what floating-point refills lose (0.1 s at 10/s is 0.9999999999999 tokens).
    private static let oneToken = 1 - 1e-9

    private mutating func refill(now: Double) {
        // A clock that went backwards (it should not: monotonic) refills nothing.
        let elapsed = max(0, now - updated)
        tokens = min(limit.burst, tokens + elapsed * limit.rate)
        updated = max(updated, now)
    }
}
