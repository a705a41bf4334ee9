import Foundation
import Postgres
import XCTest

/// Citus's rules, checked statically on the migrated schema in plain PostgreSQL (no Citus
/// needed, so it runs in every CI run and checks every table any migration adds): with the
/// placement of `leadrouter_placements` (migration 0036: tables with `lead_id` distributed by it,
/// co-located with `leads`; others reference tables),
/// - every primary key and unique index of a distributed table contains its distribution column;
/// - a foreign key between distributed tables joins distribution column to distribution column
///   (so both rows are on one shard);
/// - no foreign key goes from a reference table to a distributed one, nor from a distributed or
///   reference table to a local one.
///
/// The schema meets them all since migration 0054 (docs/scale-out.md#citus-keys-and-placement):
/// the test fails on any violation, so a new table or index that breaks the path is caught here.
final class CitusSchemaTests: XCTestCase {
    func testTheSchemaKeepsCitussRulesForDistributedTables() throws {
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let conn = try Self.migrated(databaseURL)
        XCTAssertEqual(try Self.violations(conn), [],
                       "violations of Citus's rules: fix the key, or place the table in leadrouter_table_placement")
        // The rule places what it should.
        let placements = try conn.query("SELECT table_name, placement, coalesce(distribution_column, '') AS col FROM leadrouter_placements")
            .map { try ($0.decode(String.self, "table_name"), $0.decode(String.self, "placement"), $0.decode(String.self, "col")) }
        let byName = Dictionary(uniqueKeysWithValues: placements.map { ($0.0, ($0.1, $0.2)) })
        XCTAssertEqual(byName["leads"]?.0, "distributed")
        XCTAssertEqual(byName["leads"]?.1, "id")
        XCTAssertEqual(byName["events"]?.1, "lead_id")
        XCTAssertEqual(byName["decisions"]?.1, "lead_id")
        XCTAssertEqual(byName["identities"]?.1, "value", "found by its key before the lead is known")
        XCTAssertEqual(byName["processed_messages"]?.1, "message_id")
        XCTAssertEqual(byName["rulesets"]?.0, "reference")
        XCTAssertEqual(byName["api_keys"]?.0, "reference")
        XCTAssertEqual(byName["schema_migrations"]?.0, "local")
        XCTAssertNil(byName["events_default"], "partitions follow their parent")
    }

    /// `migrate` places every table as `leadrouter_placements` says on a Citus coordinator
    /// (`scripts/test.sh --citus`), and changes nothing on plain PostgreSQL: the same test in both
    /// runs, so neither skips.
    func testMigrateDistributesTheTablesOnlyOnACitusCoordinator() throws {
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let conn = try Self.migrated(databaseURL)
        let citus = try conn.query("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").scalar(Bool.self)
        XCTAssertEqual(citus, !CitusTestDatabases.workerURLs.isEmpty)
        guard citus else {
            XCTAssertEqual(try conn.query("SELECT leadrouter_citus_distribute()").scalar(Int.self), 0, "a no-op without Citus")
            return
        }
        // Every placement as listed, co-located as listed, and the step is idempotent.
        let mismatched = try conn.query("""
            SELECT p.table_name || ': ' || p.placement || ' but ' || coalesce(t.citus_table_type, 'not placed') AS what
            FROM leadrouter_placements p
            LEFT JOIN citus_tables t ON t.table_name = p.table_name::regclass
            WHERE p.placement <> 'local' AND (t.citus_table_type IS DISTINCT FROM p.placement
                  OR (p.placement = 'distributed' AND t.distribution_column <> p.distribution_column))
            """).map { try $0.decode(String.self, "what") }
        XCTAssertEqual(mismatched, [])
        let groups = try conn.query("""
            SELECT count(DISTINCT colocation_id) AS n FROM citus_tables
            WHERE table_name IN ('leads'::regclass, 'events'::regclass, 'decisions'::regclass, 'outbox'::regclass, 'deliveries'::regclass)
            """).scalar(Int.self)
        XCTAssertEqual(groups, 1, "everything about a lead is co-located")
        XCTAssertEqual(try conn.query("SELECT leadrouter_citus_distribute()").scalar(Int.self), 0, "nothing left to place")
    }

    /// The checker finds what it should: a table made to break each rule is reported.
    func testTheCheckerReportsEachKindOfViolation() throws {
        let databaseURL = try TestDatabases.create()
        defer { TestDatabases.drop(databaseURL) }
        let conn = try Self.migrated(databaseURL)
        try conn.executeScript(unsafeSQL: """
            CREATE TABLE probe_notes (id bigint PRIMARY KEY, lead_id uuid NOT NULL, other uuid REFERENCES leads (id));
            CREATE TABLE probe_small (id int PRIMARY KEY, lead uuid REFERENCES leads (id));
            """)
        let found = try Set(Self.violations(conn))
        XCTAssertEqual(found.sorted(), [
            "probe_notes: foreign key probe_notes_other_fkey (other) -> leads (id) does not join lead_id to id",
            "probe_notes: unique index probe_notes_pkey (id) lacks lead_id",
            "probe_small: foreign key probe_small_lead_fkey (lead) -> leads (id) goes from a reference table to a distributed one",
        ])
    }

    /// Applies every migration of the repository to `databaseURL` and connects to it.
    static func migrated(_ databaseURL: String) throws -> PostgresConnection {
        _ = try Migrator(configuration: PostgresConfiguration(url: databaseURL),
                         source: .directory(repositoryRoot.appendingPathComponent("migrations")),
                         logger: TestDatabases.logger).migrate()
        return try PostgresConnection(url: databaseURL, logger: TestDatabases.logger)
    }

    /// Every violation of the rules, one line each.
    static func violations(_ conn: PostgresConnection) throws -> [String] {
        var found: [String] = []
        let keys = try conn.query("""
            SELECT p.table_name, p.distribution_column AS col, i.relname AS index,
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o), ', ') AS columns
            FROM leadrouter_placements p
            JOIN pg_class t ON t.relname = p.table_name AND t.relnamespace = current_schema()::regnamespace
            JOIN pg_index x ON x.indrelid = t.oid AND x.indisunique
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE p.placement = 'distributed'
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = p.distribution_column
                              AND a.attnum = ANY (x.indkey))
            """)
        for row in keys {
            found.append("\(try row.decode(String.self, "table_name")): unique index \(try row.decode(String.self, "index")) (\(try row.decode(String.self, "columns"))) lacks \(try row.decode(String.self, "col"))")
        }
        let foreignKeys = try conn.query("""
            SELECT f.table_name AS source, f.placement AS source_placement, coalesce(f.distribution_column, '') AS source_col,
                   r.table_name AS target, r.placement AS target_placement, coalesce(r.distribution_column, '') AS target_col,
                   c.conname AS name,
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ', ') AS columns,
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ', ') AS referenced,
                   EXISTS (SELECT 1 FROM unnest(c.conkey, c.confkey) AS m(src, dst)
                           JOIN pg_attribute sa ON sa.attrelid = c.conrelid AND sa.attnum = m.src
                           JOIN pg_attribute da ON da.attrelid = c.confrelid AND da.attnum = m.dst
                           WHERE sa.attname = f.distribution_column AND da.attname = r.distribution_column) AS joins
            FROM pg_constraint c
            JOIN pg_class fc ON fc.oid = c.conrelid
            JOIN pg_class rc ON rc.oid = c.confrelid
            JOIN leadrouter_placements f ON f.table_name = fc.relname
            JOIN leadrouter_placements r ON r.table_name = rc.relname
            WHERE c.contype = 'f' AND c.conparentid = 0 AND c.connamespace = current_schema()::regnamespace
            """)
        for row in foreignKeys {
            let source = try row.decode(String.self, "source"), target = try row.decode(String.self, "target")
            let from = try row.decode(String.self, "source_placement"), to = try row.decode(String.self, "target_placement")
            let what = "\(source): foreign key \(try row.decode(String.self, "name")) (\(try row.decode(String.self, "columns"))) -> \(target) (\(try row.decode(String.self, "referenced")))"
            if from == "distributed", to == "distributed", !(try row.decode(Bool.self, "joins")) {
                found.append("\(what) does not join \(try row.decode(String.self, "source_col")) to \(try row.decode(String.self, "target_col"))")
            } else if from == "reference", to == "distributed" {
                found.append("\(what) goes from a reference table to a distributed one")
            } else if from != "local", to == "local" {
                found.append("\(what) goes to a local table")
            }
        }
        return found.sorted()
    }
}
