import Foundation
import Postgres

/// A message of a write key, as idempotency knows it.
struct ProcessedKey: Hashable, Sendable {
    var writeKey: UUID
    var messageId: String
}

/// What a lane batch learns in its first round trip.
struct BatchStart {
    /// Answers already given to messages of the batch.
    var processed: [ProcessedKey: ProcessedMessage]
    /// The lead each known identity key of the batch points to.
    var found: [IdentityKey: UUID]
}

extension Store {
    /// One round trip for the start of a lane batch: advisory locks on every identity key of the
    /// batch (in key order, in one statement, so lanes and nodes taking overlapping sets queue
    /// instead of deadlocking), then — seeing every earlier writer of those keys — the answers
    /// already given to the batch's message ids and the leads of its keys.
    func lockCheckAndResolve(batchKeys keys: [IdentityKey], messages: [ProcessedKey]) throws -> BatchStart {
        var queries: [PostgresQuery] = []
        let hashes = Array(Set(keys.map(\.hash))).sorted()
        if !hashes.isEmpty { queries.append("SELECT pg_advisory_xact_lock(k) FROM unnest(\(hashes)::int8[]) AS t(k) ORDER BY k") }
        if !messages.isEmpty {
            queries.append("""
                SELECT p.write_key_id, p.message_id, p.lead_id, p.event_id, p.response FROM processed_messages p
                JOIN unnest(\(messages.map(\.writeKey))::uuid[], \(messages.map(\.messageId))::text[]) AS m(w, id)
                  ON p.write_key_id = m.w AND p.message_id = m.id
                """)
        }
        if !keys.isEmpty { queries.append(resolveQuery(keys)) }
        let results = try connection.pipeline(queries)
        var index = hashes.isEmpty ? 0 : 1
        var processed: [ProcessedKey: ProcessedMessage] = [:]
        if !messages.isEmpty {
            for row in results[index] {
                let key = ProcessedKey(writeKey: try row.decode(UUID.self, "write_key_id"), messageId: try row.decode(String.self, "message_id"))
                processed[key] = ProcessedMessage(leadId: try row.decode(UUID.self, "lead_id"), eventId: try row.decode(UUID.self, "event_id"),
                                                  response: try row.decode(PostgresJSON?.self, "response"))
            }
            index += 1
        }
        let found = keys.isEmpty ? [:] : try Self.decodeResolved(results[index])
        return BatchStart(processed: processed, found: found)
    }
}
