import Foundation
import Postgres
import Segmentation
import XCTest
@testable import Ingest
@testable import LeadRouterService
@testable import LeadStore

/// Merges with bounded memory that never trap: a lead with a long history is merged reading its
/// events page by page (never more than `Store.historyPageSize` rows per query); merge chains of
/// any length — made in one lane batch, across batches, or stored long ago — resolve to the live
/// lead for new messages, reads and status changes.
final class MergeChainTests: XCTestCase {
    /// Sends one message over HTTP (its own lane batch) and answers the lead id of a `/v1/events`,
    /// or nothing for the Segment calls.
    @discardableResult
    func send(_ service: TestService, _ path: String, _ body: [String: Any]) throws -> TestResponse {
        var message = body
        message["timestamp"] = iso(service.clock.now)
        message["messageId"] = message["messageId"] ?? UUID().uuidString
        let response = try service.client().json("POST", path, key: service.ingestKey, message)
        XCTAssertEqual(response.status, 200, response.text)
        return response
    }

    func leadId(_ service: TestService, anonymousId: String) throws -> UUID {
        let lead = try service.client().json("GET", "/v1/leads?anonymous_id=\(anonymousId)", key: service.readKey).json
        return try XCTUnwrap(UUID(uuidString: lead["id"] as? String ?? ""), "\(lead)")
    }

    func message(_ kind: SegmentMessage.Kind, _ json: String, at now: Date) throws -> SegmentMessage {
        try SegmentMessageDecoder().decodeSingle(Array(json.utf8), kind: kind, receivedAt: now)
    }

    /// Applies `messages` as ONE lane batch (`applyBatch`), as a lane would.
    func applyAsOneBatch(_ service: TestService, _ messages: [SegmentMessage]) throws -> [IngestResult] {
        let ingest = service.app.pipeline.service
        let writeKey = UUID()
        return try ingest.pool.withPipelinedTransaction { transaction in
            try ingest.applyBatch(messages.map { ($0, writeKey) }, in: transaction)
        }
    }

    // MARK: - A long history, read in pages

    func testMergingALeadWith20000EventsReadsItsHistoryPageByPage() throws {
        let service = try TestService(test: self)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        try send(service, "/v1/identify", ["userId": "u-1", "traits": ["email": "ana@acme.io"]])
        service.clock.advance(3600)
        try send(service, "/v1/track", ["anonymousId": "a-1", "event": "Product Viewed", "properties": ["product_id": "p-0"]])
        let absorbed = try leadId(service, anonymousId: "a-1")
        // 20 000 more views of the anonymous lead, four at each instant (ties are ordered by id),
        // at microsecond times, stored directly (as years of history would be).
        let conn = try service.connection()
        try conn.query("""
            INSERT INTO events (lead_id, occurred_at, received_at, kind, type, name, message)
            SELECT \(absorbed), \(service.clock.now)::timestamptz - (g / 4) * interval '1.234567 second', now(), 'track',
                   'product_viewed', 'Product Viewed',
                   jsonb_build_object('name', 'Product Viewed', 'properties', jsonb_build_object('product_id', 'p-' || g))
            FROM generate_series(1, 20000) AS g
            """)
        service.clock.advance(60)
        let before = service.app.ingest.counters.snapshot

        // They log in: the anonymous lead (younger) is absorbed by the known one.
        try send(service, "/v1/identify", ["anonymousId": "a-1", "userId": "u-1"])

        let survivor = try leadId(service, anonymousId: "a-1")
        XCTAssertNotEqual(survivor, absorbed)
        let after = service.app.ingest.counters.snapshot
        XCTAssertEqual(after.merges - before.merges, 1)
        XCTAssertEqual(after.historyEvents - before.historyEvents, 20_001, "the whole history was folded into the signals")
        XCTAssertEqual(after.historyPages - before.historyPages, 21, "in pages of \(Store.historyPageSize)")
        XCTAssertLessThanOrEqual(after.largestHistoryPage, Store.historyPageSize, "no query read more than a page")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(survivor)'"), 20_003)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(absorbed)'"), 0)

        // The pages are exactly the history, in order, each at most `pageSize` rows.
        let store = Store(conn)
        var pages: [[Event]] = []
        try store.engineEventPages(of: survivor, pageSize: 777) { pages.append($0) }
        XCTAssertEqual(pages.count, 26)  // 20 001 events / 777
        XCTAssertTrue(pages.allSatisfy { $0.count <= 777 })
        var whole: [Event] = []
        try store.engineEventPages(of: survivor, pageSize: 100_000) { whole.append(contentsOf: $0) }
        XCTAssertEqual(whole.count, 20_001)
        func ids(_ events: [Event]) -> [String] { events.map { "\($0.occurredAt.milliseconds) \($0.properties["product_id"].map { "\($0)" } ?? "")" } }
        XCTAssertEqual(ids(pages.flatMap { $0 }), ids(whole))
        XCTAssertEqual(Set(ids(whole)).count, 20_001, "no event read twice")

        // The signals are what a backfill over the whole history at once gives.
        let stored = try XCTUnwrap(try store.lead(survivor))
        var reset = stored.state
        reset.signals = SignalState()
        let engine = service.app.engine
        let expected = engine.evaluate(state: engine.backfill(state: reset, events: whole, now: Timestamp(service.clock.now)),
                                       now: service.clock.now).newState.signals
        XCTAssertEqual(stored.state.signals, expected)
        let lead = try service.client().json("GET", "/v1/leads/\(survivor.uuidString.lowercased())", key: service.readKey).json
        XCTAssertEqual(lead["segments"] as? [String], ["consideration.mid-intent.browser"], "the absorbed views count")
    }

    // MARK: - Chains made by merges

    /// 51 leads, the one of `a-50` the oldest and `a-0` the youngest; tying each to `u` in turn
    /// makes every merge absorb the survivor so far into an older lead: a-0 into a-1 into a-2 …
    func makeLeadsYoungestLast(_ service: TestService) throws -> [UUID] {
        for i in (0...50).reversed() {
            try send(service, "/v1/track", ["anonymousId": "a-\(i)", "event": "Product Viewed"])
            service.clock.advance(1)
        }
        return try (0...50).map { try leadId(service, anonymousId: "a-\($0)") }
    }

    func assertOneLiveLead(_ service: TestService, leads: [UUID], survivor: UUID, file: StaticString = #filePath, line: UInt = #line) throws {
        let all = leads.map { "'\($0)'" }.joined(separator: ",")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE id IN (\(all)) AND merged_into IS NULL"), 1, file: file, line: line)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE merged_into = '\(survivor)'"), 50, file: file, line: line)
        XCTAssertEqual(try service.count("SELECT count(*) FROM identities WHERE lead_id = '\(survivor)'"), 52, file: file, line: line)
        XCTAssertEqual(try service.count("SELECT count(*) FROM identities WHERE lead_id <> '\(survivor)'"), 0, file: file, line: line)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id <> '\(survivor)'"), 0, file: file, line: line)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'lead.merged'"), 50, file: file, line: line)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships WHERE lead_id <> '\(survivor)'"), 0, file: file, line: line)
        for absorbed in [leads[0], leads[1], leads[25], leads[49]] {
            let read = try service.client().json("GET", "/v1/leads/\(absorbed.uuidString.lowercased())", key: service.readKey)
            XCTAssertEqual(read.status, 200, read.text, file: file, line: line)
            XCTAssertEqual(read.json["id"] as? String, survivor.uuidString.lowercased(), file: file, line: line)
        }
    }

    func testAChainOf50MergesInOneLaneBatch() throws {
        let service = try TestService(test: self)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let leads = try makeLeadsYoungestLast(service)
        let now = service.clock.now
        var batch = try (0...50).map { i in
            try message(.identify, #"{"anonymousId":"a-\#(i)","userId":"u","messageId":"m-\#(i)"}"#, at: now)
        }
        // After the chain, in the same batch: the first-absorbed lead's identity, one from the middle,
        // the user id, and a re-sent merge.
        batch += [try message(.track, #"{"anonymousId":"a-0","event":"Product Viewed","messageId":"t-0"}"#, at: now),
                  try message(.track, #"{"anonymousId":"a-25","event":"Product Viewed","messageId":"t-25"}"#, at: now),
                  try message(.track, #"{"userId":"u","event":"Product Viewed","messageId":"t-u"}"#, at: now),
                  try message(.identify, #"{"anonymousId":"a-7","userId":"u","messageId":"m-7"}"#, at: now)]
        let results = try applyAsOneBatch(service, batch)

        let survivor = leads[50]
        XCTAssertEqual(results.prefix(51).map(\.leadId), leads, "each merge absorbed the survivor so far into an older lead")
        XCTAssertEqual(results[51..<54].map(\.leadId), [survivor, survivor, survivor], "later messages land on the last survivor")
        XCTAssertEqual(results.map(\.duplicate), Array(repeating: false, count: 54) + [true])
        XCTAssertEqual(service.app.ingest.counters.snapshot.merges, 50)
        try assertOneLiveLead(service, leads: leads, survivor: survivor)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 51 + 51 + 3)
        // A later message for the first-absorbed identity, in a batch of its own.
        let later = try send(service, "/v1/events", ["anonymousId": "a-0", "event": "Product Viewed"])
        XCTAssertEqual(later.json["lead_id"] as? String, survivor.uuidString.lowercased())
    }

    func testAChainOf50MergesAcrossBatches() throws {
        let service = try TestService(test: self)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let leads = try makeLeadsYoungestLast(service)
        for i in 0...50 {
            try send(service, "/v1/identify", ["anonymousId": "a-\(i)", "userId": "u"])
            service.clock.advance(1)
        }
        let survivor = leads[50]
        XCTAssertEqual(service.app.ingest.counters.snapshot.merges, 50)
        try assertOneLiveLead(service, leads: leads, survivor: survivor)
        for identity in ["a-0", "a-30"] {
            let r = try send(service, "/v1/events", ["anonymousId": identity, "event": "Product Viewed"])
            XCTAssertEqual(r.json["lead_id"] as? String, survivor.uuidString.lowercased())
        }
    }

    // MARK: - A long chain stored long ago

    /// Merges repoint what pointed at the absorbed lead, so they only ever store chains one deep;
    /// a chain stored otherwise (by an older version, by hand) must still resolve, whatever its
    /// length: here 49 deep, with identities still on the first leads of the chain.
    func testMessagesReadsAndStatusChangesFollowAStoredChainOfAnyLength() throws {
        let service = try TestService(test: self)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        try send(service, "/v1/identify", ["userId": "x", "traits": ["email": "x@example.com"]])  // the oldest lead
        service.clock.advance(60)
        var chain: [UUID] = []
        for i in 0..<50 {
            try send(service, "/v1/track", ["anonymousId": "a-\(i)", "event": "Product Viewed"])
            chain.append(try leadId(service, anonymousId: "a-\(i)"))
            service.clock.advance(1)
        }
        let conn = try service.connection()
        for i in 0..<49 {
            try conn.query("UPDATE leads SET merged_into = \(chain[i + 1]), segment_entered = '{}', next_evaluation_at = NULL WHERE id = \(chain[i])")
            try conn.query("DELETE FROM memberships WHERE lead_id = \(chain[i])")
        }
        let end = chain[49]
        let endText = end.uuidString.lowercased()

        // A message for an identity of the first, long-merged lead: on its own and in a lane batch.
        let alone = try send(service, "/v1/events", ["anonymousId": "a-0", "event": "Product Viewed"])
        XCTAssertEqual(alone.json["lead_id"] as? String, endText)
        let now = service.clock.now
        let results = try applyAsOneBatch(service, try [0, 9, 10, 30, 48].map { i in
            try message(.track, #"{"anonymousId":"a-\#(i)","event":"Product Viewed","messageId":"b-\#(i)"}"#, at: now)
        })
        XCTAssertEqual(Set(results.map(\.leadId)), [end])
        XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE lead_id = '\(endText)'"), 1 + 6)

        // Reads and status changes follow the chain too.
        let read = try service.client().json("GET", "/v1/leads/\(chain[0].uuidString.lowercased())", key: service.readKey)
        XCTAssertEqual(read.status, 200, read.text)
        XCTAssertEqual(read.json["id"] as? String, endText)
        XCTAssertEqual(try leadId(service, anonymousId: "a-3"), end)
        XCTAssertEqual(try service.app.ingest.setStatus("qualified", lead: chain[0])?.leadId, end)

        // An alias ties the chain's identity to the oldest lead: the whole chain ends there.
        try send(service, "/v1/alias", ["userId": "x", "previousId": "a-0"])
        let oldest = try service.client().json("GET", "/v1/leads?user_id=x", key: service.readKey).json["id"] as? String
        XCTAssertNotNil(oldest)
        for lead in [chain[0], chain[20], chain[49]] {
            let r = try service.client().json("GET", "/v1/leads/\(lead.uuidString.lowercased())", key: service.readKey)
            XCTAssertEqual(r.json["id"] as? String, oldest)
        }
        let next = try send(service, "/v1/events", ["anonymousId": "a-5", "event": "Product Viewed"])
        XCTAssertEqual(next.json["lead_id"] as? String, oldest)
    }
}
