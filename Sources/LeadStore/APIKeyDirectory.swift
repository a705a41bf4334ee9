import Essentials
import Foundation
import Postgres

/// API keys by the text a client presents: looked up by SHA-256 and cached briefly, so a busy
/// write key costs no query per request (a revoked key stops working within `cacheSeconds`).
/// What authentication calls; it knows nothing of HTTP.
///
/// The cache is two bounded LRUs: known keys (kept `cacheSeconds`) and unknown ones (kept
/// `negativeCacheSeconds`, shorter, so a key just created is soon accepted). Unknown keys never
/// push out known ones, so a flood of random keys cannot evict the keys in use; each LRU holds
/// at most `capacity` entries.
package final class APIKeyDirectory: Sendable {
    /// What the cache knows about a presented key without asking the database.
    package enum CachedLookup: Sendable, Equatable {
        case known(StoredAPIKey)
        case unknown
        case notCached
    }

    private struct Caches {
        var known: LRUCache<[UInt8], (key: StoredAPIKey, until: Double)>
        var unknown: LRUCache<[UInt8], Double>
    }

    let cacheSeconds: Double
    let negativeCacheSeconds: Double
    private let lookup: @Sendable ([UInt8]) throws -> StoredAPIKey?
    private let clock: @Sendable () -> Double
    private let caches: Locked<Caches>
    /// Moves on every `forget`: a lookup that began before it does not cache what it read.
    private let forgets = Locked(0)

    package convenience init(pool: PostgresPool, cacheSeconds: Double = 10, negativeCacheSeconds: Double = 2,
                             capacity: Int = 10_000) {
        self.init(cacheSeconds: cacheSeconds, negativeCacheSeconds: negativeCacheSeconds, capacity: capacity) { hash in
            try pool.withConnection { try Store($0).apiKey(hash: hash) }
        }
    }

    /// `lookup` finds a key by its SHA-256 (the database); `clock` is monotonic seconds (tests inject both).
    package init(cacheSeconds: Double = 10, negativeCacheSeconds: Double = 2, capacity: Int = 10_000,
                 clock: @escaping @Sendable () -> Double = RateLimiterClock.monotonicSeconds,
                 lookup: @escaping @Sendable ([UInt8]) throws -> StoredAPIKey?) {
        self.cacheSeconds = cacheSeconds
        self.negativeCacheSeconds = negativeCacheSeconds
        self.lookup = lookup
        self.clock = clock
        caches = Locked(Caches(known: LRUCache(capacity: capacity), unknown: LRUCache(capacity: capacity)))
    }

    /// The stored key whose plaintext is `text`; nil when there is none (unknown keys are cached too).
    package func key(presented text: String) throws -> StoredAPIKey? {
        let hash = APIKeyHash.of(text)
        switch cached(hash: hash) {
        case .known(let key): return key
        case .unknown: return nil
        case .notCached: break
        }
        let forgetsBefore = forgets.withLock { $0 }
        let key = try lookup(hash)
        let now = clock()
        // A revoke or rotate on this node while the lookup ran: do not cache what was read.
        guard forgets.withLock({ $0 }) == forgetsBefore else { return key }
        caches.withLock { caches in
            if let key {
                caches.unknown.removeValue(for: hash)
                caches.known.set((key, now + cacheSeconds), for: hash)
            } else {
                caches.known.removeValue(for: hash)
                caches.unknown.set(now + negativeCacheSeconds, for: hash)
            }
        }
        return key
    }

    /// What the cache says about `text`, never asking the database (a request from a client
    /// that is being rate limited may still use a key this node already knows).
    package func cachedKey(presented text: String) -> CachedLookup {
        cached(hash: APIKeyHash.of(text))
    }

    private func cached(hash: [UInt8]) -> CachedLookup {
        let now = clock()
        return caches.withLock { caches in
            if let hit = caches.known.value(for: hash) {
                if hit.until > now { return .known(hit.key) }
                caches.known.removeValue(for: hash)
            } else if let until = caches.unknown.value(for: hash) {
                if until > now { return .unknown }
                caches.unknown.removeValue(for: hash)
            }
            return .notCached
        }
    }

    /// Drops key `id` from this node's cache at once (after it was revoked or rotated here), so
    /// its next request is looked up again. Other nodes drop it within `cacheSeconds`.
    package func forget(keyID id: UUID) {
        forgets.withLock { $0 += 1 }
        caches.withLock { caches in
            for hash in caches.known.keysByRecency where caches.known.peek(hash)?.key.id == id {
                caches.known.removeValue(for: hash)
            }
        }
    }

    /// Entries held: (known, unknown); each at most `capacity`.
    package var cachedCounts: (known: Int, unknown: Int) {
        caches.withLock { ($0.known.count, $0.unknown.count) }
    }
}
