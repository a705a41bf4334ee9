/// One `TokenBucket` per key (API key, client address), in a bounded LRU: memory stays at
/// `maxTracked` buckets however many distinct keys arrive. A key whose bucket was evicted starts
/// over with a full bucket, so the bound should exceed the keys active within one refill period
/// (`burst / rate` seconds). Thread-safe (one lock; each call is a dictionary lookup).
public final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    public let limit: TokenBucket.Limit
    private let buckets: Locked<LRUCache<Key, TokenBucket>>
    private let clock: @Sendable () -> Double

    /// `clock` returns seconds on a monotonic scale (tests inject one).
    public init(limit: TokenBucket.Limit, maxTracked: Int,
                clock: @escaping @Sendable () -> Double = RateLimiterClock.monotonicSeconds) {
        self.limit = limit
        self.buckets = Locked(LRUCache(capacity: maxTracked))
        self.clock = clock
    }

    /// Takes a token from `key`'s bucket.
    public func consume(_ key: Key) -> TokenBucket.Outcome {
        guard !limit.isUnlimited else { return .allowed }
        let now = clock()
        return buckets.withLock { cache in
            var bucket = cache.value(for: key) ?? TokenBucket(limit: limit, now: now)
            let outcome = bucket.consume(now: now)
            cache.set(bucket, for: key)
            return outcome
        }
    }

    /// Whether `key` has a token, without taking it (a key never seen has a full bucket and is
    /// not stored).
    public func check(_ key: Key) -> TokenBucket.Outcome {
        guard !limit.isUnlimited else { return .allowed }
        let now = clock()
        return buckets.withLock { cache in
            guard var bucket = cache.peek(key) else { return .allowed }
            return bucket.check(now: now)
        }
    }

    /// Buckets held now (at most `maxTracked`).
    public var trackedCount: Int { buckets.withLock { $0.count } }
}

/// The default clock of `RateLimiter`.
public enum RateLimiterClock {
    /// `CLOCK_MONOTONIC` in seconds.
    @Sendable public static func monotonicSeconds() -> Double { Double(MonotonicClock.nanoseconds()) / 1e9 }
}
