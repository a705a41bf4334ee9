import Foundation
import Postgres
import XCTest

/// The `leadrouter_name` domain's check (migration 0102: no bounded repetition, the cheap form of
/// migration 0001's pattern) accepts exactly the names 0001's did.
final class NameCheckTests: MigratedDatabaseTestCase {
    /// Names at and past every edge of the pattern: the domain takes one exactly when 0001's
    /// expression matches it, and a refusal names the constraint.
    func testTheDomainAcceptsExactlyTheOldPatternsNames() throws {
        let names = ["a", "0", "awareness.low-intent.viewer", "a_b-c.d", String(repeating: "a", count: 128),
                     String(repeating: "a", count: 129), "", "A", "_a", ".a", "-a", "a b", "ab\n", "é", "aé",
                     "a" + String(repeating: "-", count: 127), "a" + String(repeating: "-", count: 128), "a/b", "a:b"]
        for name in names {
            let old = try conn.query("SELECT \(name) ~ '^[a-z0-9][a-z0-9_.-]{0,127}$' AS ok").scalar(Bool.self)
            do {
                let stored = try conn.query("SELECT \(name)::leadrouter_name::text AS v").scalar(String.self)
                XCTAssertEqual(stored, name)
                XCTAssertTrue(old, "the domain took \(name.debugDescription), 0001's pattern does not")
            } catch let error as PostgresError {
                XCTAssertEqual(error.constraint, "leadrouter_name_check", "\(name.debugDescription): \(error)")
                XCTAssertFalse(old, "the domain refused \(name.debugDescription), 0001's pattern takes it")
            }
        }
    }

    /// No bounded repetition in the check (the costly form), and new values are still checked.
    func testTheCheckHasNoBoundedRepetition() throws {
        let check = try conn.query("""
            SELECT pg_get_constraintdef(c.oid) AS d FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid
            WHERE t.typname = 'leadrouter_name' AND c.conname = 'leadrouter_name_check'
            """).scalar(String.self)
        XCTAssertFalse(check.contains("{"), check)
        XCTAssertThrowsError(try conn.query("INSERT INTO leads (email, status) VALUES ('a@example.com', 'Not A Name')")) {
            XCTAssertEqual(($0 as? PostgresError)?.constraint, "leadrouter_name_check")
        }
    }
}
