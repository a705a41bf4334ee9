import Foundation
import LeadStore
import Postgres
import XCTest

extension TestService {
    /// Rewrites every packed decision and membership reason (`PackedJSON`, migrations/0060),
    /// lead action state (0094) and event message (0095) as the jsonb it unpacks to, so a test
    /// can look into them with SQL. Unpacking must give JSON PostgreSQL accepts, so this checks
    /// that too.
    func unpackStoredDocuments() throws {
        let conn = try connection()
        for row in try conn.query("SELECT lead_id, id, packed FROM decisions WHERE packed IS NOT NULL") {
            let document = try PackedJSON.unpack(Array(try row.decode(Data.self, "packed")))
            try conn.execute("""
                UPDATE decisions SET decision = \(document), packed = NULL
                WHERE lead_id = \(try row.decode(UUID.self, "lead_id")) AND id = \(try row.decode(UUID.self, "id"))
                """)
        }
        for row in try conn.query("SELECT lead_id, id, reason_packed FROM membership_history WHERE reason_packed IS NOT NULL") {
            let reason = try PackedJSON.unpack(Array(try row.decode(Data.self, "reason_packed")))
            try conn.execute("""
                UPDATE membership_history SET reason = \(reason), reason_packed = NULL
                WHERE lead_id = \(try row.decode(UUID.self, "lead_id")) AND id = \(try row.decode(Int64.self, "id"))
                """)
        }
        for row in try conn.query("SELECT id, action_packed FROM leads WHERE action_packed IS NOT NULL") {
            let state = try PackedJSON.unpack(Array(try row.decode(Data.self, "action_packed")))
            try conn.execute("UPDATE leads SET action_state = \(state), action_packed = NULL WHERE id = \(try row.decode(UUID.self, "id"))")
        }
        for row in try conn.query("SELECT lead_id, id, message_packed FROM events WHERE message_packed IS NOT NULL") {
            let message = try PackedJSON.unpack(Array(try row.decode(Data.self, "message_packed")))
            try conn.execute("""
                UPDATE events SET message = \(message), message_packed = NULL
                WHERE lead_id = \(try row.decode(UUID.self, "lead_id")) AND id = \(try row.decode(UUID.self, "id"))
                """)
        }
        XCTAssertEqual(try count("SELECT count(*) FROM events WHERE message IS NULL"), 0, "every message unpacked")
    }
}
