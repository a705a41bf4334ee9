import Essentials
import Foundation
import Postgres

/// `api_keys.last_used_at`, kept coarsely and off the hot path: authentication only notes the
/// key in memory (a dictionary write under a lock); `flush` writes what was noted in one
/// statement, from a background job. A key is written at most once per `minimumSeconds` (a
/// minute): this node skips a key it wrote less than that ago, and the statement skips a row
/// another node wrote less than that ago.
package final class KeyUsage: Sendable {
    package let minimumSeconds: Double
    private struct State {
        /// Noted since the last flush: the latest use per key.
        var pending: [UUID: Date] = [:]
        /// When this node last wrote (or meant to write) each key.
        var written: [UUID: Date] = [:]
    }
    private let state = Locked(State())

    package init(minimumSeconds: Double = 60) { self.minimumSeconds = minimumSeconds }

    /// Notes a use of key `id` at `now`; cheap, no I/O.
    package func note(_ id: UUID, at now: Date) {
        let minimum = minimumSeconds
        state.withLock { state in
            if let last = state.written[id], now.timeIntervalSince(last) < minimum { return }
            state.pending[id] = now
        }
    }

    /// Writes the noted uses; returns how many rows changed. On failure the uses are noted again.
    @discardableResult
    package func flush(pool: PostgresPool) throws -> Int {
        let minimum = minimumSeconds
        let taken: [(id: UUID, at: Date)] = state.withLock { state in
            let now = Date()
            state.written = state.written.filter { now.timeIntervalSince($0.value) < minimum }
            let uses = state.pending.map { (id: $0.key, at: $0.value) }
            for use in uses { state.written[use.id] = use.at }
            state.pending = [:]
            return uses
        }
        guard !taken.isEmpty else { return 0 }
        do {
            return try pool.withConnection { try Store($0).recordAPIKeyUse(taken, minimumSeconds: minimum) }
        } catch {
            state.withLock { state in
                for use in taken { state.written[use.id] = nil; state.pending[use.id] = max(state.pending[use.id] ?? use.at, use.at) }
            }
            throw error
        }
    }
}
