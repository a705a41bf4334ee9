import Foundation
import Postgres
import XCTest

/// The packed skipped list of queue items (migration 0105): `leadrouter_skipped_pack` answers a
/// text only when `leadrouter_skipped_unpack` gives the very same jsonb back, else NULL (and
/// routing keeps the jsonb).
final class SkippedPackTests: MigratedDatabaseTestCase {
    /// Every step and reason assignment writes packs and comes back byte-identical; what the text
    /// cannot hold (another reason, a comma in an owner id, a missing or extra key, not a list)
    /// is refused.
    func testAListPacksOnlyWhenItUnpacksToTheSameJSON() throws {
        let packable: [(String, String)] = [
            ("[]", ""),
            (#"[{"step": "round_robin", "reason": "at_capacity (25/25)", "owner_id": "rep_anna"}, {"step": "round_robin", "reason": "at_capacity (25/25)", "owner_id": "rep_ben"}]"#,
             "r25/25:rep_anna,r25/25:rep_ben"),
            (#"[{"step": "account", "reason": "unavailable", "owner_id": "ae:zoe \"ü\""}]"#, #"au:ae:zoe "ü""#),
            (#"[{"step": "territory", "reason": "inactive", "owner_id": ""}, {"step": "least_loaded", "reason": "unknown_owner", "owner_id": "x"}]"#,
             "ti:,lo:x"),
            (#"[{"step": "team", "reason": "unknown_team", "owner_id": null}, {"step": "account_owner", "reason": "at_capacity (0/0)", "owner_id": "y"}]"#,
             "TT,o0/0:y"),
            (#"[{"step": "round_robin", "reason": "at_capacity (\"}])", "owner_id": "z"}]"#, #"r"}]:z"#),
        ]
        for (list, packed) in packable {
            XCTAssertEqual(try conn.query("SELECT leadrouter_skipped_pack(\(list)::jsonb) AS p").scalar(String?.self), packed, list)
            let back = try conn.query("SELECT leadrouter_queue_assignment(NULL, \(packed))::text AS a").scalar(String.self)
            let before = try conn.query("SELECT jsonb_build_object('skipped', \(list)::jsonb)::text AS a").scalar(String.self)
            XCTAssertEqual(back, before)
        }
        let refused = [
            #"[{"step": "round_robin", "reason": "at_capacity (5/5) today", "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": "busy", "owner_id": "a"}]"#,
            #"[{"step": "later", "reason": "unavailable", "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": "unavailable", "owner_id": "a,b"}]"#,
            #"[{"step": "round_robin", "reason": "unavailable", "owner_id": "a,r\"q"}]"#,
            #"[{"step": "round_robin", "reason": "at_capacity (", "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": "at_capacity (1,2)", "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": "unavailable"}]"#,
            #"[{"step": "round_robin", "reason": "unavailable", "owner_id": "a", "note": 1}]"#,
            #"[{"step": "round_robin", "reason": "unavailable", "owner_id": 7}]"#,
            // an X that would come back as another reason, or split its entry (migrations/0120)
            #"[{"step": "round_robin", "reason": "at_capacity (u)", "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": "at_capacity (1:2)", "owner_id": "a"}]"#,
            #"[{"step": 5, "reason": "unavailable", "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": 7, "owner_id": "a"}]"#,
            #"[{"step": "round_robin", "reason": "unavailable", "owner_id": "a"}, 1]"#,
            #"[1]"#, #"{}"#, #"null"#,
        ]
        for list in refused {
            XCTAssertNil(try conn.query("SELECT leadrouter_skipped_pack(\(list)::jsonb) AS p").scalar(String?.self), list)
        }
        // Any text unpacks to JSON or NULL, never an error (what lets the pack try and compare).
        for text in [#"r"x"#, ",,", "z", ":", #"r\"#, #"r"}]:x"#] {
            XCTAssertNoThrow(try conn.query("SELECT leadrouter_skipped_unpack(\(text)) AS j").scalar(String?.self), text)
        }
        // A stored jsonb is read as it is; an item holds one of the two.
        XCTAssertEqual(try conn.query(#"SELECT leadrouter_queue_assignment('{"escalation": {}}', 'r1/1:a')::text AS a"#).scalar(String.self),
                       #"{"escalation": {}}"#)
        XCTAssertThrowsError(try conn.query("INSERT INTO queue_items (queue, lead_id, assignment) VALUES ('q', gen_random_uuid(), NULL)")) {
            XCTAssertEqual(($0 as? PostgresError)?.constraint, "queue_items_assignment_kept")
        }
    }
}
