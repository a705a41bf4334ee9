import Foundation
import Postgres
import XCTest

/// Schema v1's functions and constraints do what the design relies on.
final class SchemaTests: MigratedDatabaseTestCase {
    private func insertLead() throws -> UUID {
        try conn.query("INSERT INTO leads (email) VALUES (\("a@example.com")) RETURNING id").scalar(UUID.self)
    }

    func testEventPartitionsAreCreatedOnDemandAndRowsLandInThem() throws {
        XCTAssertEqual(try conn.query("SELECT leadrouter_ensure_event_partitions('2030-01-15', 3)").scalar(Int.self), 3)
        XCTAssertEqual(try conn.query("SELECT leadrouter_ensure_event_partitions('2030-03-01', 2)").scalar(Int.self), 1)
        let lead = try insertLead()
        let occurred = Date(timeIntervalSince1970: 1_896_000_000)  // 2030-01-30
        let far = Date(timeIntervalSince1970: 2_500_000_000)        // 2049: no partition
        for when in [occurred, far] {
            try conn.query("""
                INSERT INTO events (lead_id, occurred_at, kind, type, message)
                VALUES (\(lead), \(when), 'track', 'added_to_cart', \(PostgresJSON(rawBytes: Array("{}".utf8))))
                """)
        }
        let parts = try conn.query("SELECT tableoid::regclass::text AS p FROM events ORDER BY occurred_at")
            .map { try $0.decode(String.self, "p") }
        XCTAssertEqual(parts, ["events_2030_01", "events_default"])
    }

    /// `leadrouter_on_citus()` (migration 0097) says whether the Citus extension is installed, and
    /// the planner inlines it: the plpgsql functions that branch on it in every lane transaction
    /// evaluate an expression instead of planning a SQL function's body per call.
    func testOnCitusAgreesWithTheExtensionAndIsInlined() throws {
        let installed = try conn.query("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS x").scalar(Bool.self)
        XCTAssertEqual(try conn.query("SELECT leadrouter_on_citus() AS x").scalar(Bool.self), installed)
        let plan = try conn.query("EXPLAIN (VERBOSE, COSTS OFF) SELECT NOT leadrouter_on_citus()")
            .map { try $0.decode(String.self, "QUERY PLAN") }.joined(separator: "\n")
        XCTAssertFalse(plan.contains("leadrouter_on_citus"), plan)
        XCTAssertTrue(plan.contains("to_regclass"), plan)
    }

    /// `leadrouter_identity_hash` (migration 0098) hashes as it always did, and the planner inlines
    /// it into the lane's suppressed-identity check instead of running a SQL function per statement.
    func testIdentityHashIsUnchangedAndInlined() throws {
        XCTAssertEqual(try conn.query("SELECT encode(leadrouter_identity_hash('user_id', 'b1'), 'hex') AS h").scalar(String.self),
                       try conn.query("SELECT encode(sha256('user_id:b1'::bytea), 'hex') AS h").scalar(String.self))
        let plan = try conn.query("""
            EXPLAIN (VERBOSE, COSTS OFF) SELECT k.kind FROM unnest('{user_id}'::text[], '{b1}'::text[]) AS k(kind, value)
            JOIN suppressed_identities s ON s.hash = leadrouter_identity_hash(k.kind, k.value)
            """).map { try $0.decode(String.self, "QUERY PLAN") }.joined(separator: "\n")
        XCTAssertFalse(plan.contains("leadrouter_identity_hash"), plan)
        XCTAssertTrue(plan.contains("sha256"), plan)
    }

    func testOneOpenQueueItemPerLeadAndQueue() throws {
        let lead = try insertLead()
        try conn.query("INSERT INTO queue_items (queue, lead_id) VALUES ('high-intent', \(lead))")
        XCTAssertThrowsError(try conn.query("INSERT INTO queue_items (queue, lead_id) VALUES ('high-intent', \(lead))")) {
            XCTAssertEqual(($0 as? PostgresError)?.constraint, "queue_items_one_open_per_lead")
        }
        try conn.query("UPDATE queue_items SET state = 'closed', close_reason = 'acked' WHERE lead_id = \(lead)")
        try conn.query("INSERT INTO queue_items (queue, lead_id) VALUES ('high-intent', \(lead))")
        XCTAssertEqual(try conn.query("SELECT count(*) FROM queue_items").scalar(Int.self), 2)
    }

    func testChecksRejectBadEnumsAndScopes() throws {
        let lead = try insertLead()
        let cases: [(PostgresQuery, String)] = [
            ("INSERT INTO api_keys (name, hash, scopes) VALUES ('k', \(Data(repeating: 1, count: 32)), \(["ingest", "root"]))", "api_keys_scopes_check"),
            ("INSERT INTO queue_items (queue, lead_id, state) VALUES ('q', \(lead), 'lost')", "queue_items_state_check"),
            ("UPDATE leads SET status = \("Not A Name") WHERE id = \(lead)", "leadrouter_name_check"),
            ("INSERT INTO identities (kind, value, lead_id) VALUES ('fax', 'x', \(lead))", "identities_kind_check"),
            ("INSERT INTO membership_history (lead_id, segment, change, ruleset_version, occurred_at) VALUES (\(lead), 's', 'left', 1, now())", "membership_history_change_check"),
        ]
        for (query, constraint) in cases {
            XCTAssertThrowsError(try conn.query(query), query.sql) { error in
                XCTAssertEqual((error as? PostgresError)?.sqlState, "23514", query.sql)
                XCTAssertEqual((error as? PostgresError)?.constraint, constraint, query.sql)
            }
        }
    }

    func testOnlyOneActiveRuleset() throws {
        try conn.query("INSERT INTO rulesets (version, yaml, checksum, author, note, active) VALUES (1, 'version: 1', 'x', 'ann', 'first', true)")
        XCTAssertThrowsError(try conn.query("INSERT INTO rulesets (version, yaml, checksum, author, note, active) VALUES (2, 'version: 1', 'y', 'ann', 'second', true)")) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23505")
        }
    }
}
