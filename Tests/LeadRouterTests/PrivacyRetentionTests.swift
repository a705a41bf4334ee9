import Foundation
import Postgres
import XCTest
@testable import Ingest
@testable import LeadRouterService
@testable import Privacy

/// Retention (issue 17) with a manual clock: idempotency honoured inside the window and not after,
/// old event partitions archived and dropped (never inside the ruleset's longest window, and the
/// lead's windows still count what they counted), decisions, history and delivered webhooks
/// pruned by age, `context.ip` truncated or dropped before it is stored.
final class PrivacyRetentionTests: XCTestCase {
    static let day = 86_400.0

    /// The clock starts at the real time: idempotency records carry the database's receive time.
    func service(_ configure: @escaping (inout LeadRouterApp.Options) -> Void = { _ in }) throws -> TestService {
        try TestService(test: self, start: Date(), configure: configure)
    }

    func testIdempotencyIsHonouredInsideTheWindowAndNotAfter() throws {
        let service = try self.service()
        let message: [String: Any] = ["userId": "u-idem", "event": "Product Viewed", "messageId": "m-retention-1",
                                      "timestamp": iso(service.clock.now)]
        XCTAssertEqual(try service.client().json("POST", "/v1/track", key: service.ingestKey, message).status, 200)
        service.clock.advance(6 * Self.day)
        var report = try service.app.retention.runOnce()
        XCTAssertFalse(report.skipped)
        XCTAssertEqual(report.processedMessages, 0)
        XCTAssertEqual(try service.client().json("POST", "/v1/track", key: service.ingestKey, message).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1, "inside the window: a duplicate")
        service.clock.advance(2 * Self.day)
        report = try service.app.retention.runOnce()
        XCTAssertEqual(report.processedMessages, 1)
        XCTAssertEqual(try service.client().json("POST", "/v1/track", key: service.ingestKey, message).status, 200)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 2, "after the window: applied again")
    }

    func testOldPartitionsAreArchivedAndDroppedAndWindowsStayExact() throws {
        let archive = FileManager.default.temporaryDirectory.appendingPathComponent("lr-archive-\(UUID())").path
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: archive) }
        var settings = RetentionSettings()
        settings.archiveDirectory = archive
        let service = try self.service { $0.retention = { var s = settings; s.enabled = false; return s }() }
        // Two years of history for one lead: a partition per month, 3 views a month.
        let conn = try service.connection()
        let start = service.clock.now.addingTimeInterval(-730 * Self.day)
        _ = try conn.query("SELECT leadrouter_ensure_event_partitions(\(start)::date, 26)")
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "u-history"]).status, 200)
        let lead = try XCTUnwrap(try conn.query("SELECT id FROM leads").first?.decode(UUID.self, "id"))
        try conn.execute("""
            INSERT INTO events (lead_id, occurred_at, kind, type, name, message)
            SELECT \(lead), \(start) + make_interval(days => g * 10), 'track', 'product_viewed', 'Product Viewed', '{"ip": "kept"}'
            FROM generate_series(0, 72) AS g
            """)
        // The last month: views the engine counted into the lead's signal state.
        for _ in 0..<3 {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "u-history", "event": "Product Viewed"]).status, 200)
            service.clock.advance(3600)
        }
        let before = try service.client().json("GET", "/v1/leads/\(lead)", key: service.readKey).json
        XCTAssertEqual(before["stage"] as? String, "consideration", "\(before)")
        let partitionsBefore = try service.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
        let eventsBefore = try service.count("SELECT count(*) FROM events")
        let old = try conn.query("SELECT count(*) FROM events WHERE occurred_at < date_trunc('month', \(service.clock.now)::timestamptz - interval '400 days')").scalar(Int.self)
        XCTAssertGreaterThan(old, 20)

        let recentSince = service.clock.now.addingTimeInterval(-300 * Self.day)
        let recent = try conn.query("SELECT count(*) FROM events WHERE occurred_at > \(recentSince)").scalar(Int.self)
        let report = try service.app.retention.runOnce()
        XCTAssertGreaterThanOrEqual(report.droppedPartitions.count, 10, "\(report)")
        XCTAssertEqual(try service.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass"),
                       partitionsBefore - report.droppedPartitions.count)
        let archived = try report.droppedPartitions.reduce(0) { total, name in
            let text = try String(contentsOfFile: "\(archive)/\(name).ndjson", encoding: .utf8)
            for line in text.split(separator: "\n") {
                XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            return total + text.split(separator: "\n").count
        }
        XCTAssertEqual(archived + (try service.count("SELECT count(*) FROM events")), eventsBefore, "every dropped event is in the archive")
        XCTAssertEqual(try conn.query("SELECT count(*) FROM events WHERE occurred_at > \(recentSince)").scalar(Int.self), recent,
                       "recent history is untouched")
        // The windows still count what they counted (the signal state is on the lead row): the
        // lead is as it was, and its next event counts on from there.
        let after = try service.client().json("GET", "/v1/leads/\(lead)", key: service.readKey).json
        for field in ["segments", "stage", "score", "band", "next_evaluation_at"] {
            XCTAssertEqual("\(after[field] ?? "-")", "\(before[field] ?? "-")", field)
        }
        let next = try service.client().json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-history", "event": "Product Viewed"])
        XCTAssertEqual(next.status, 200, next.text)
        XCTAssertEqual(next.json["stage"] as? String, "consideration", next.text)
        let explanation = String(describing: next.json["explanation"] ?? "")
        XCTAssertFalse(explanation.contains("count(product_viewed, 14d) = 1 "), "the views before the drop still count: \(explanation)")
    }

    func testEventsInsideTheLongestWindowAreNeverDroppedWhateverTheSetting() throws {
        var settings = RetentionSettings()
        settings.events = 1 * Self.day  // shorter than the sample ruleset's 30-day windows
        let service = try self.service { $0.retention = { var s = settings; s.enabled = false; return s }() }
        let conn = try service.connection()
        _ = try conn.query("SELECT leadrouter_ensure_event_partitions(\(service.clock.now.addingTimeInterval(-70 * Self.day))::date, 4)")
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "u-window"]).status, 200)
        let lead = try XCTUnwrap(try conn.query("SELECT id FROM leads").first?.decode(UUID.self, "id"))
        try conn.execute("""
            INSERT INTO events (lead_id, occurred_at, kind, type, name, message)
            SELECT \(lead), \(service.clock.now) - make_interval(days => g), 'track', 'product_viewed', 'Product Viewed', '{}'
            FROM generate_series(1, 60) AS g
            """)
        _ = try service.app.retention.runOnce()
        XCTAssertEqual(try conn.query("""
            SELECT count(*) FROM events WHERE occurred_at > \(service.clock.now.addingTimeInterval(-31 * Self.day)) AND name = 'Product Viewed'
            """).scalar(Int.self), 30, "every event of the longest window (30d) is kept")
    }

    func testDecisionsHistoryAndDeliveredWebhooksArePrunedByAge() throws {
        let service = try self.service()
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let decided = try service.client().json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-age", "event": "Pricing Requested"])
        XCTAssertEqual(decided.status, 200, decided.text)
        XCTAssertGreaterThan(try service.count("SELECT count(*) FROM decisions"), 0)
        XCTAssertEqual((decided.json["segments"] as? [String: Any])?["entered"] as? [String], ["decision.high-intent.pricing"], decided.text)
        XCTAssertGreaterThan(try service.count("SELECT count(*) FROM membership_history"), 0)
        let conn = try service.connection()
        try conn.execute("""
            WITH s AS (INSERT INTO subscriptions (url, topics, secret) VALUES ('https://crm.example.com/h', '{lead.routed}', 'x') RETURNING id)
            INSERT INTO deliveries (subscription_id, outbox_id, lead_id, status, delivered_at, created_at)
            SELECT s.id, o.id, o.lead_id, 'delivered', now() - interval '40 days', now() - interval '40 days' FROM s, outbox o
            """)
        try conn.execute("UPDATE outbox SET created_at = now() - interval '40 days'")
        try conn.execute("DELETE FROM outbox_pending")
        let outbox = try service.count("SELECT count(*) FROM outbox")
        XCTAssertGreaterThan(outbox, 0)
        var report = try service.app.retention.runOnce()
        XCTAssertEqual(report.deliveriesAndOutbox, 2 * outbox, "delivered 40 days ago: deliveries, then their outbox rows")
        XCTAssertEqual(report.decisions, 0)
        service.clock.advance(181 * Self.day)
        report = try service.app.retention.runOnce()
        XCTAssertGreaterThan(report.decisions, 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions"), 0)
        XCTAssertGreaterThan(try service.count("SELECT count(*) FROM membership_history"), 0, "history is kept longer (400d)")
        service.clock.advance(220 * Self.day)
        report = try service.app.retention.runOnce()
        XCTAssertEqual(try service.count("SELECT count(*) FROM membership_history"), 0)
    }

    func testContextIPIsTruncatedOrDroppedBeforeItIsStored() throws {
        for (policy, v4, v6) in [(ContextIPPolicy.truncate, "203.0.113.0", "2001:db8:abcd::"), (.drop, nil, nil),
                                 (.keep, "203.0.113.77", "2001:db8:abcd:12:3456::1")] as [(ContextIPPolicy, String?, String?)] {
            let service = try self.service { $0.contextIP = policy }
            XCTAssertEqual(try service.send("/v1/track", ["userId": "u4", "event": "Product Viewed", "context": ["ip": "203.0.113.77"]]).status, 200)
            XCTAssertEqual(try service.send("/v1/track", ["userId": "u6", "event": "Product Viewed", "context": ["ip": "2001:db8:abcd:12:3456::1"]]).status, 200)
            let stored = try service.storedEvents().map { ($0.message["context"] as? [String: Any])?["ip"] as? String }
            XCTAssertEqual(Set(stored.map { $0 ?? "-" }), Set([v4 ?? "-", v6 ?? "-"]), "\(policy)")
        }
        XCTAssertNil(ContextIPPolicy.truncated("not an address"))
    }
}
