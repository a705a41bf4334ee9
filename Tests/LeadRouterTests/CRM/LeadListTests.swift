import Foundation
import LeadStore
import Postgres
import XCTest

/// `GET /v1/leads?segment=&stage=&status=&owner_id=&updated_since=&order=` and
/// `GET /v1/segments/{name}/members?order=` against a seeded database: every filter, both
/// orders, cursor paging through ties, and clear 400s for a bad query.
final class LeadListTests: XCTestCase {
    static let segment = "consideration.mid-intent.browser"

    /// 300 live leads (scores with ties, four stages, three statuses, two owners, hourly update
    /// times), 5 merged ones (never listed), and the even ones in `segment`.
    func seeded() throws -> TestService {
        let service = try TestService(test: self)
        let conn = try service.connection()
        try conn.executeScript(unsafeSQL: """
            INSERT INTO leads (id, email, stage, status, score, owner_id, updated_at, created_at)
            SELECT md5('lead' || g)::uuid, 'p' || g || '@example.com', (ARRAY['awareness','consideration','decision','retention'])[1 + g % 4],
                   (ARRAY['new','qualified','converted'])[1 + g % 3], (g % 50) + 0.123456789,
                   CASE g % 5 WHEN 0 THEN 'rep_anna' WHEN 1 THEN 'rep_ben' END,
                   timestamptz '2026-11-01 00:00:00Z' + g * interval '1 hour', timestamptz '2026-10-01 00:00:00Z'
            FROM generate_series(1, 305) AS g;
            UPDATE leads SET merged_into = md5('lead300')::uuid WHERE id IN (SELECT md5('lead' || g)::uuid FROM generate_series(301, 305) AS g);
            INSERT INTO memberships (segment, lead_id, entered_at, ruleset_version)
            SELECT '\(Self.segment)', md5('lead' || g)::uuid, timestamptz '2026-11-20 00:00:00Z' + (g % 37) * interval '1 minute', 1
            FROM generate_series(1, 305) AS g WHERE g % 2 = 0;
            ANALYZE leads; ANALYZE memberships;
            """)
        return service
    }

    /// Every page of `path` (`limit` per page), concatenated.
    func all(_ service: TestService, _ path: String, limit: Int = 7) throws -> [[String: Any]] {
        let client = try service.client()
        var items: [[String: Any]] = []
        var cursor: String?
        var pages = 0
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let r = try client.json("GET", path + "\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""), key: service.readKey)
            XCTAssertEqual(r.status, 200, r.text)
            items += r.json["data"] as? [[String: Any]] ?? []
            cursor = r.json["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 500
        return items
    }

    func ids(_ service: TestService, _ sql: String) throws -> [String] {
        try service.connection().query(PostgresQuery(unsafeRaw: sql)).map { try $0.decode(UUID.self, "id").uuidString.lowercased() }
    }

    func testEveryFilterAndOrderPagesThroughExactlyTheMatchingLeads() throws {
        let service = try seeded()
        let live = "merged_into IS NULL"
        let member = "EXISTS (SELECT 1 FROM memberships m WHERE m.lead_id = leads.id AND m.segment = '\(Self.segment)')"
        let cases: [(query: String, sql: String)] = [
            ("", "\(live) ORDER BY score DESC, id DESC"),
            ("order=updated_at", "\(live) ORDER BY updated_at DESC, id DESC"),
            ("segment=\(Self.segment)", "\(live) AND \(member) ORDER BY score DESC, id DESC"),
            ("stage=decision&order=updated_at", "\(live) AND stage = 'decision' ORDER BY updated_at DESC, id DESC"),
            ("status=qualified&owner_id=rep_anna", "\(live) AND status = 'qualified' AND owner_id = 'rep_anna' ORDER BY score DESC, id DESC"),
            ("owner_id=rep_ben&order=updated_at", "\(live) AND owner_id = 'rep_ben' ORDER BY updated_at DESC, id DESC"),
            ("updated_since=2026-11-10T00:00:00Z&order=updated_at",
             "\(live) AND updated_at >= '2026-11-10T00:00:00Z' ORDER BY updated_at DESC, id DESC"),
            ("segment=\(Self.segment)&stage=decision&status=new&updated_since=2026-11-05T12:00:00Z",
             "\(live) AND \(member) AND stage = 'decision' AND status = 'new' AND updated_at >= '2026-11-05T12:00:00Z' ORDER BY score DESC, id DESC"),
        ]
        for (query, sql) in cases {
            let expected = try ids(service, "SELECT id FROM leads WHERE \(sql)")
            XCTAssertFalse(expected.isEmpty, query)
            let listed = try all(service, "/v1/leads?" + query)
            XCTAssertEqual(listed.compactMap { $0["id"] as? String }, expected, query)
        }
        // Items are whole lead resources, scores in 3 decimals.
        let first = try XCTUnwrap(try all(service, "/v1/leads?owner_id=rep_anna", limit: 500).first)
        XCTAssertEqual(first["owner_id"] as? String, "rep_anna")
        XCTAssertEqual(first["score"] as? Double, 45.123)
        XCTAssertEqual(first["merged_ids"] as? [String], [])
        XCTAssertNotNil(first["email"] as? String)
        // The survivor of the five merged leads lists them.
        let survivor = try service.client().json("GET", "/v1/leads/\(try ids(service, "SELECT md5('lead300')::uuid AS id")[0])", key: service.readKey)
        XCTAssertEqual((survivor.json["merged_ids"] as? [String])?.count, 5)
    }

    func testABadListQueryIsOneProblemNamingEveryParameter() throws {
        let service = try seeded()
        let r = try service.client().json("GET", "/v1/leads?order=bogus&stage=Not%20A%20Stage&segment=no.such.segment&updated_since=yesterday",
                                          key: service.readKey)
        XCTAssertEqual(r.status, 400, r.text)
        XCTAssertEqual(r.header("content-type"), "application/problem+json")
        let pointers = Set((r.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String })
        XCTAssertEqual(pointers, ["/query/order", "/query/stage", "/query/segment", "/query/updated_since"])
        let unknownCursor = try service.client().json("GET", "/v1/leads?cursor=\(UUID().uuidString)", key: service.readKey)
        XCTAssertEqual(unknownCursor.status, 200)
        XCTAssertEqual((unknownCursor.json["data"] as? [Any])?.count, 0)
    }

    func testMembersCarryEmailScoreStageAndEnteredTimeInEitherOrder() throws {
        let service = try seeded()
        let path = "/v1/segments/\(Self.segment)/members"
        let byEntry = try all(service, path)
        XCTAssertEqual(byEntry.compactMap { $0["lead_id"] as? String }, try ids(service, """
            SELECT m.lead_id AS id FROM memberships m JOIN leads l ON l.id = m.lead_id
            WHERE m.segment = '\(Self.segment)' AND l.merged_into IS NULL ORDER BY m.entered_at DESC, m.lead_id DESC
            """))
        XCTAssertEqual(try all(service, path + "?order=entered_at").count, byEntry.count)
        let byScore = try all(service, path + "?order=score", limit: 11)
        XCTAssertEqual(byScore.compactMap { $0["lead_id"] as? String }, try ids(service, """
            SELECT l.id FROM memberships m JOIN leads l ON l.id = m.lead_id
            WHERE m.segment = '\(Self.segment)' AND l.merged_into IS NULL ORDER BY l.score DESC, l.id DESC
            """))
        let top = try XCTUnwrap(byScore.first)
        XCTAssertEqual(top["score"] as? Double, 48.123)
        XCTAssertNotNil(top["email"] as? String)
        XCTAssertNotNil(top["stage"] as? String)
        XCTAssertNotNil(top["entered_at"] as? String)
        let bad = try service.client().json("GET", path + "?order=name", key: service.readKey)
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertEqual((bad.json["errors"] as? [[String: Any]])?.first?["pointer"] as? String, "/query/order")
    }

    /// A segment read member first (small) and lead first (big) gives the same pages.
    func testSmallAndBigSegmentReadsGiveTheSamePages() throws {
        let service = try seeded()
        let store = Store(try service.connection())
        func pages<T>(_ next: (String?) throws -> Page<T>) throws -> [T] {
            var items: [T] = [], cursor: String?
            repeat { let page = try next(cursor); items += page.items; cursor = page.nextCursor } while cursor != nil
            return items
        }
        for order in LeadListQuery.Order.allCases {
            let expected = try ids(service, """
                SELECT l.id FROM leads l JOIN memberships m ON m.lead_id = l.id AND m.segment = '\(Self.segment)'
                WHERE l.merged_into IS NULL AND l.stage = 'decision' ORDER BY l.\(order.rawValue) DESC, l.id DESC
                """)
            for threshold in [0, 1_000_000] {
                let query = LeadListQuery(segment: Self.segment, stage: "decision", order: order)
                let listed = try pages { try store.leads(query, limit: 7, cursor: $0, smallSegment: threshold) }
                XCTAssertEqual(listed.map { $0.id.uuidString.lowercased() }, expected, "\(order) \(threshold)")
            }
        }
        let byScore = try ids(service, """
            SELECT l.id FROM memberships m JOIN leads l ON l.id = m.lead_id
            WHERE m.segment = '\(Self.segment)' AND l.merged_into IS NULL ORDER BY l.score DESC, l.id DESC
            """)
        for threshold in [0, 1_000_000] {
            let members = try pages { try store.members(of: Self.segment, order: .score, limit: 9, cursor: $0, smallSegment: threshold) }
            XCTAssertEqual(members.map { $0.leadId.uuidString.lowercased() }, byScore, "\(threshold)")
        }
    }
}
