import Foundation
import Logging
import Postgres
import LeadStore

/// Counts the batch messages dropped as invalid, per UTC day, write key and reason (the first
/// error's pointer inside the message), in `rejected_messages`: a 200 answer with `rejected`
/// would otherwise leave no trace an operator can query. Its own short transaction, after the
/// batch's valid messages committed; a failure here is logged and never fails the request.
package struct RejectionCounter {
    let pool: PostgresPool
    let logger: Logger
    /// This node's running total (`/metrics`), counted even when the upsert fails.
    let counters: IngestCounters?

    package init(pool: PostgresPool, counters: IngestCounters? = nil, logger: Logger) {
        self.pool = pool; self.counters = counters; self.logger = logger
    }

    package func record(_ rejected: [RejectedMessage], writeKey: UUID, at: Date) {
        counters?.countRejected(rejected.count)
        var counts: [String: Int] = [:]
        for message in rejected { counts[message.reason, default: 0] += 1 }
        do {
            try pool.withConnection { try Store($0).countRejectedMessages(counts, writeKey: writeKey, at: at) }
        } catch {
            logger.warning("could not count rejected messages", metadata: ["error": "\(error)", "count": "\(rejected.count)"])
        }
    }
}
