import Foundation
import Postgres
import XCTest
@testable import Ingest
@testable import LeadRouterService
@testable import LeadStore

/// `leads.source_last` is NULL while the last touch is the first (migration 0100, issue 23
/// target 7): a new lead's row does not store its one touch twice, every reader sees the first
/// touch there (the lead record, the privacy export, the segment deltas' entrant channel — the
/// latter in `RollupDeltasTests`), and a later touch is stored as it was before.
final class LeadSourceLastTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z

    /// A node with `config/segments.yaml` (its `sources`), for the length of `body`.
    func withNode(_ body: (LeadRouterApp, ManualClock) throws -> Void) throws { try Self.withNode(at: t0, body) }

    /// A node with `config/segments.yaml` on a fresh database, its clock at `t0`, for the length of `body`.
    static func withNode(at t0: Date, _ body: (LeadRouterApp, ManualClock) throws -> Void) throws {
        let url = try TestDatabases.create()
        defer { TestDatabases.drop(url) }
        let clock = ManualClock(t0)
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
        let node = try RollupDeltasTests.app(url, clock: clock, rules: yaml)
        defer { node.stop() }
        try body(node, clock)
    }

    /// A product view from `medium`'s campaign (`config/segments.yaml` maps "cpc" to
    /// paid_search and "email" to email_newsletter).
    func view(_ app: LeadRouterApp, _ clock: ManualClock, medium: String) throws -> UUID {
        let body = Array(#"{"userId": "u-1", "event": "Product Viewed", "context": {"campaign": {"medium": "\#(medium)"}}}"#.utf8)
        let message = try SegmentMessageDecoder().decodeSingle(body, kind: .track, receivedAt: clock.now)
        return try app.ingest.ingest(message, writeKey: UUID()).leadId
    }

    func stored(_ app: LeadRouterApp, _ lead: UUID) throws -> (first: String?, last: String?) {
        try app.pool.withConnection { conn in
            let row = try conn.query("SELECT source_first ->> 'channel' AS f, source_last ->> 'channel' AS l FROM leads WHERE id = \(lead)")
                .first!
            return (try row.decode(String?.self, "f"), try row.decode(String?.self, "l"))
        }
    }

    func exportedLast(_ app: LeadRouterApp, _ lead: UUID) throws -> String? {
        try app.pool.withConnection { conn in
            let doc = try Store(conn).exportRows(.leads, lead: lead).documents.first!
            let json = try JSONSerialization.jsonObject(with: Data(doc)) as! [String: Any]
            return (json["source_last"] as? [String: Any])?["channel"] as? String
        }
    }

    func testANewLeadStoresItsOneTouchOnceAndALaterTouchIsStored() throws {
        try withNode { node, clock in
            let lead = try view(node, clock, medium: "cpc")
            XCTAssertEqual(try stored(node, lead).first, "paid_search")
            XCTAssertNil(try stored(node, lead).last, "the last touch is the first: not stored twice")
            let record = try node.pool.withConnection { try Store($0).lead(lead) }
            XCTAssertEqual(record?.state.lastSource?.channel, "paid_search")
            XCTAssertEqual(record?.state.lastSource, record?.state.firstSource)
            XCTAssertEqual(try exportedLast(node, lead), "paid_search")

            // An event of the same lead from another campaign: a last touch of its own, stored.
            clock.set(t0.addingTimeInterval(3600))
            XCTAssertEqual(try view(node, clock, medium: "email"), lead)
            XCTAssertEqual(try stored(node, lead).first, "paid_search")
            XCTAssertEqual(try stored(node, lead).last, "email_newsletter")
            let later = try node.pool.withConnection { try Store($0).lead(lead) }
            XCTAssertEqual(later?.state.firstSource?.channel, "paid_search")
            XCTAssertEqual(later?.state.lastSource?.channel, "email_newsletter")
            XCTAssertEqual(try exportedLast(node, lead), "email_newsletter")

            // And an event that changes no touch keeps it.
            clock.set(t0.addingTimeInterval(7200))
            let body = Array(#"{"userId": "u-1", "event": "Product Viewed"}"#.utf8)
            _ = try node.ingest.ingest(try SegmentMessageDecoder().decodeSingle(body, kind: .track, receivedAt: clock.now), writeKey: UUID())
            XCTAssertEqual(try stored(node, lead).last, "email_newsletter")
        }
    }

    /// A lead stored with one touch (source_last NULL) gets an event from before it, from
    /// another campaign: that becomes the first touch, the stored one stays the last — written
    /// out, since the NULL would now read as the new first touch.
    func testAnEarlierTouchMovesTheFirstAndKeepsTheLast() throws {
        try withNode { node, clock in
            let lead = try view(node, clock, medium: "cpc")
            XCTAssertNil(try stored(node, lead).last)
            let earlier = Array(#"""
                {"userId": "u-1", "event": "Product Viewed", "timestamp": "2026-11-02T08:00:00Z",
                 "context": {"campaign": {"medium": "email"}}}
                """#.utf8)
            let message = try SegmentMessageDecoder().decodeSingle(earlier, kind: .track, receivedAt: clock.now)
            XCTAssertEqual(try node.ingest.ingest(message, writeKey: UUID()).leadId, lead)
            XCTAssertEqual(try stored(node, lead).first, "email_newsletter")
            XCTAssertEqual(try stored(node, lead).last, "paid_search")
            let record = try node.pool.withConnection { try Store($0).lead(lead) }
            XCTAssertEqual(record?.state.firstSource?.channel, "email_newsletter")
            XCTAssertEqual(record?.state.lastSource?.channel, "paid_search")
            XCTAssertEqual(try exportedLast(node, lead), "paid_search")
        }
    }
}
