import Foundation
import Postgres
import XCTest
@testable import HTTPAPI

/// Idempotency and lead-row locking under real concurrency: many loopback connections at once.
final class IngestConcurrencyTests: XCTestCase {
    func testConcurrentDuplicatesAreAppliedOnceAndGetTheSameAnswer() throws {
        let service = try TestService(test: self)
        let body: [String: Any] = ["userId": "u-dup", "event": "Product Viewed", "properties": ["category": "socks"],
                                   "messageId": "m-duplicate-1", "timestamp": iso(service.clock.now)]
        let bytes = Array(try JSONSerialization.data(withJSONObject: body))
        let answers = ConcurrentResults<TestResponse>()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            answers.record {
                try service.client().request("POST", "/v1/events", headers: ["Authorization": "Bearer \(service.ingestKey)"], body: bytes)
            }
        }
        let responses = try answers.values()
        XCTAssertEqual(responses.count, 8)
        XCTAssertEqual(Set(responses.map(\.status)), [200])
        XCTAssertEqual(Set(responses.map(\.text)).count, 1, "every duplicate gets the first answer byte for byte")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), 1)
        // The record points at the decision row instead of holding a copy of the document. Read
        // by ids, not by a join: on Citus the two tables are distributed by different columns.
        let conn = try service.connection()
        let record = try conn.query("SELECT lead_id, decision_id, event_id FROM processed_messages WHERE response IS NULL")
        XCTAssertEqual(record.count, 1)
        if let r = record.first {
            let (lead, decision, event) = (try r.decode(UUID.self, "lead_id"), try r.decode(UUID.self, "decision_id"), try r.decode(UUID.self, "event_id"))
            XCTAssertEqual(try conn.query("""
                SELECT count(*) AS n FROM decisions WHERE lead_id = \(lead) AND id = \(decision) AND event_id = \(event)
                """).scalar(Int.self), 1)
        }
        XCTAssertEqual(service.app.ingest.counters.snapshot.duplicates, 7)

        // A later re-send (e.g. an SDK retry after a timeout) through the Segment endpoint too.
        let again = try service.client().json("POST", "/v1/track", key: service.ingestKey, body)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
    }

    /// Records written before 0006 hold their answer as a copy (`response`, no `decision_id`):
    /// a re-send still gets that answer, byte for byte as the first one.
    func testRecordsHoldingTheirOwnAnswerStillAnswerReSends() throws {
        let service = try TestService(test: self)
        let body: [String: Any] = ["userId": "u-old", "event": "Product Viewed", "properties": ["category": "socks"],
                                   "messageId": "m-old-1", "timestamp": iso(service.clock.now)]
        let first = try service.client().json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(first.status, 200)
        try service.unpackStoredDocuments()
        let conn = try service.connection()
        // Each record gets its decision's document by ids (on Citus a join of the two tables,
        // distributed by different columns, is refused).
        for r in try conn.query("SELECT write_key_id, message_id, lead_id, decision_id FROM processed_messages WHERE decision_id IS NOT NULL") {
            let (key, message) = (try r.decode(UUID.self, "write_key_id"), try r.decode(String.self, "message_id"))
            let (lead, decision) = (try r.decode(UUID.self, "lead_id"), try r.decode(UUID.self, "decision_id"))
            let document = try conn.query("SELECT decision::text AS d FROM decisions WHERE lead_id = \(lead) AND id = \(decision)").scalar(String.self)
            try conn.execute("""
                UPDATE processed_messages SET response = \(document)::jsonb, decision_id = NULL
                WHERE write_key_id = \(key) AND message_id = \(message)
                """)
        }
        try conn.execute("DELETE FROM decisions")
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE response IS NOT NULL AND decision_id IS NULL"), 1)
        let again = try service.client().json("POST", "/v1/events", key: service.ingestKey, body)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.text, first.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
    }

    func testSixteenConnectionsSendingForOneLeadGiveExactCounts() throws {
        let service = try TestService(test: self)
        let perConnection = 10
        let results = ConcurrentResults<Int>()
        DispatchQueue.concurrentPerform(iterations: 16) { connection in
            results.record {
                let client = try service.client()
                var ok = 0
                for i in 0..<perConnection {
                    let response = try client.json("POST", "/v1/events", key: service.ingestKey, [
                        "userId": "u-busy", "event": "Product Viewed", "messageId": "c\(connection)-\(i)",
                        "properties": ["category": "running-shoes"], "timestamp": iso(service.clock.now)])
                    if response.status == 200 { ok += 1 }
                }
                return ok
            }
        }
        XCTAssertEqual(try results.values().reduce(0, +), 16 * perConnection)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 160)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), 160)
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 160)
        // Each view is worth 3 points, capped at 30 for the rule: the cap holds only if no update was lost
        // before it was reached, and the per-rule part must be exactly the cap.
        let conn = try service.connection()
        let row = try conn.query("SELECT score, score_parts::text AS parts, leadrouter_lead_segments(segment_entered) AS segments FROM leads")[0]
        XCTAssertEqual(try row.decode(Double.self, "score"), 30)
        XCTAssertEqual(try row.decode([String].self, "segments"),
                       ["consideration.mid-intent.browser", "consideration.mid-intent.running-shoes"])
        // Every event was counted in the signal state: the memberships history shows exactly one entry each.
        XCTAssertEqual(try service.count("SELECT count(*) FROM membership_history"), 2)
    }
}

/// Collects results (or the first error) from concurrent work.
final class ConcurrentResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [T] = []
    private var errors: [Error] = []

    func record(_ body: () throws -> T) {
        do {
            let value = try body()
            lock.withLock { results.append(value) }
        } catch {
            lock.withLock { errors.append(error) }
        }
    }

    func values() throws -> [T] {
        try lock.withLock {
            if let error = errors.first { throw error }
            return results
        }
    }
}
