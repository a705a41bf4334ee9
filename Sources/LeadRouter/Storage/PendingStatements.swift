import Foundation
import Postgres

/// Statements of the open transaction that wait to go out together: a lane stages the writes of
/// every message of its batch here and sends them in ONE pipeline (one round trip) before commit.
/// Whoever must run a statement now, and needs the staged ones applied first (a read of rows
/// they write), calls `flush()` before it.
final class PendingStatements {
    let store: Store
    private(set) var queries: [PostgresQuery] = []

    init(store: Store) { self.store = store }

    func append(_ query: PostgresQuery) { queries.append(query) }

    func append(contentsOf more: [PostgresQuery]) { queries.append(contentsOf: more) }

    /// Sends what is staged, in order, in one round trip.
    func flush() throws {
        guard !queries.isEmpty else { return }
        let batch = queries
        queries = []
        try store.run(batch)
    }
}
