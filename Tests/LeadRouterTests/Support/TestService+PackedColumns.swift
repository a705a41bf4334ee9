import Foundation
import LeadStore
import Postgres

extension TestService {
    /// The action state (`lead.interest`, sent logs, segment scores, time zone) of the lead with
    /// `userId`, as JSON: unpacked from `action_packed` (migrations/0094), or the jsonb of a row
    /// no write has touched since; nil when the lead keeps none. SQL cannot read packed bytes, so
    /// tests read the state through the service's own unpacking.
    func actionState(userId: String) throws -> [String: Any]? {
        let row = try connection().query("""
            SELECT action_packed, action_state FROM leads WHERE user_id = \(userId) AND merged_into IS NULL
            """).first
        guard let row else { return nil }
        let json: PostgresJSON? = try row.decode(Data?.self, "action_packed").map { try PackedJSON.unpack(Array($0)) }
            ?? row.decode(PostgresJSON?.self, "action_state")
        guard let json else { return nil }
        return try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any]
    }

    /// `lead.interest.categories.<category>` of the lead with `userId`, times 1 000, rounded.
    func interestMillis(userId: String, category: String) throws -> Int? {
        let categories = (try actionState(userId: userId)?["interest"] as? [String: Any])?["categories"] as? [String: Any]
        return (categories?[category] as? Double).map { Int(($0 * 1000).rounded()) }
    }
}

extension TestService {
    /// The events matching `condition` (SQL over the `events` columns), each with its stored
    /// message as JSON — unpacked from `message_packed` (migrations/0095) or the jsonb of a row
    /// written before: SQL cannot look into packed bytes, so tests read messages through the
    /// service's own unpacking.
    func storedEvents(where condition: String = "TRUE") throws -> [(type: String, message: [String: Any])] {
        try connection().query(PostgresQuery(unsafeRaw: """
            SELECT type, message, message_packed FROM events WHERE \(condition) ORDER BY occurred_at, received_at, id
            """)).map { row in
            let json: PostgresJSON? = try row.decode(Data?.self, "message_packed").map { try PackedJSON.unpack(Array($0)) }
                ?? row.decode(PostgresJSON?.self, "message")
            let message = try json.flatMap { try JSONSerialization.jsonObject(with: Data($0.bytes)) as? [String: Any] } ?? [:]
            return (try row.decode(String.self, "type"), message)
        }
    }
}
