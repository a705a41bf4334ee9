import Essentials
import Foundation
import Postgres

/// API keys by the text a client presents: looked up by SHA-256 and cached briefly, so a busy
/// write key costs no query per request (a revoked key stops working within `cacheSeconds`).
/// What authentication calls; it knows nothing of HTTP.
package final class APIKeyDirectory: Sendable {
    let pool: PostgresPool
    let cacheSeconds: Double
    private let cache = Locked<[[UInt8]: (key: StoredAPIKey?, until: Date)]>([:])
    /// Moves on every `forget`: a lookup that began before it does not cache what it read.
    private let forgets = Locked(0)

    package init(pool: PostgresPool, cacheSeconds: Double = 10) {
        self.pool = pool; self.cacheSeconds = cacheSeconds
    }

    /// The stored key whose plaintext is `text`; nil when there is none (unknown keys are cached too).
    package func key(presented text: String) throws -> StoredAPIKey? {
        let hash = APIKeyHash.of(text)
        let now = Date()
        if let hit = cache.withLock({ $0[hash] }), hit.until > now { return hit.key }
        let forgetsBefore = forgets.withLock { $0 }
        let key = try pool.withConnection { try Store($0).apiKey(hash: hash) }
        cache.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = (key, now.addingTimeInterval(cacheSeconds))
        }
        if forgets.withLock({ $0 }) != forgetsBefore { cache.withLock { $0[hash] = nil } }
        return key
    }

    /// Drops key `id` from this node's cache at once (after it was revoked or rotated here), so
    /// its next request is looked up again. Other nodes drop it within `cacheSeconds`.
    package func forget(keyID id: UUID) {
        forgets.withLock { $0 += 1 }
        cache.withLock { entries in entries = entries.filter { $0.value.key?.id != id } }
    }
}
