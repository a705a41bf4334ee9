import Foundation
import XCTest

/// Time-based re-evaluation with the manual clock: a lead in a segment whose exit is
/// `inactive(14d)` leaves when the 14 days pass, without an event.
final class SweeperTests: XCTestCase {
    static let rules = """
        version: 3
        events:
          aliases: { "Product Viewed": product_viewed }
        stages:
          - { stage: awareness, when: 'true' }
        segments:
          - name: awareness.low-intent.viewer
            priority: 10
            enter: 'count(product_viewed, 30d) >= 1'
            exit: 'inactive(14d)'
            route:
              email: { sequence: picks }
        """

    func testEventPartitionsAreCreatedAheadOfTheMonth() throws {
        let service = try TestService(test: self, rulesYAML: Self.rules)
        service.clock.set(ISO8601DateFormatter().date(from: "2031-05-10T12:00:00Z")!)
        let names = "('events_2031_05', 'events_2031_06', 'events_2031_07', 'events_2031_08')"
        XCTAssertEqual(try service.count("SELECT count(*) FROM pg_class WHERE relname IN \(names)"), 0)
        XCTAssertEqual(try service.app.sweeper.ensureEventPartitions(), 3)
        XCTAssertEqual(try service.app.sweeper.ensureEventPartitions(), 0, "idempotent")
        XCTAssertEqual(try service.count("SELECT count(*) FROM pg_class WHERE relname IN \(names)"), 3,
                       "May, June and July 2031; not August")
        // The sweeper's loop does it by itself on start.
        service.clock.set(ISO8601DateFormatter().date(from: "2032-01-31T23:00:00Z")!)
        service.app.sweeper.start()
        defer { service.app.sweeper.stop() }
        let deadline = Date().addingTimeInterval(10)
        while try service.count("SELECT count(*) FROM pg_class WHERE relname = 'events_2032_03'") == 0 && Date() < deadline {
            usleep(20_000)
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM pg_class WHERE relname = 'events_2032_03'"), 1)
    }

    func testInactiveFourteenDaysExitsWhenTheTimeComes() throws {
        let service = try TestService(test: self, rulesYAML: Self.rules)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let client = try service.client()
        let t0 = service.clock.now
        var r = try client.json("POST", "/v1/events", key: service.ingestKey, [
            "userId": "u-quiet", "event": "Product Viewed", "timestamp": iso(t0)])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual((r.json["segments"] as? [String: Any])?["entered"] as? [String], ["awareness.low-intent.viewer"])
        XCTAssertEqual(r.json["ruleset_version"] as? Int, 3)
        let leadId = try XCTUnwrap(r.json["lead_id"] as? String)
        XCTAssertEqual(r.json["next_evaluation_at"] as? String, iso(t0.addingTimeInterval(14 * 86_400)).replacingOccurrences(of: ".000Z", with: ".000Z"))

        // 13 days later nothing is due.
        service.clock.set(t0.addingTimeInterval(13 * 86_400))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 0)
        // Just past 14 days: the sweeper takes the lead and writes the exit like an event would.
        service.clock.set(t0.addingTimeInterval(14 * 86_400 + 2))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 1)
        r = try client.json("GET", "/v1/leads/\(leadId)", key: service.readKey)
        XCTAssertEqual(r.json["segments"] as? [String], [])
        XCTAssertTrue(r.json["next_evaluation_at"] is NSNull, "nothing left to wait for: \(r.text)")
        r = try client.json("GET", "/v1/leads/\(leadId)/segments", key: service.readKey)
        let history = r.json["history"] as? [[String: Any]] ?? []
        XCTAssertEqual(history.map { $0["change"] as? String }, ["entered", "exited"])
        XCTAssertTrue(history.last?["event_id"] is NSNull)
        XCTAssertEqual(((history.last?["reason"] as? [String: Any])?["exit"] as? String)?.contains("inactive(14d)"), true)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'segment.exited'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions WHERE event_id IS NULL"), 1)
        // Swept once: a second sweep finds nothing.
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 0)
    }

    func testSweepBatchesSkipLockedRowsAndCoverEveryDueLead() throws {
        let service = try TestService(test: self, rulesYAML: Self.rules) { $0.sweeperBatchSize = 7 }
        let client = try service.client()
        for i in 0..<20 {
            let r = try client.json("POST", "/v1/track", key: service.ingestKey, [
                "userId": "u-\(i)", "event": "Product Viewed", "timestamp": iso(service.clock.now)])
            XCTAssertEqual(r.status, 200, r.text)
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships"), 20)
        // Another node holds one lead's row: this sweep skips it instead of waiting.
        let other = try service.connection()
        // The lead's id first: on Citus a row lock needs the distribution column (`id`).
        let held = try other.query("SELECT id FROM leads WHERE user_id = 'u-0'").scalar(UUID.self)
        try other.executeScript(unsafeSQL: "BEGIN")
        try other.query("SELECT id FROM leads WHERE id = \(held) FOR UPDATE")
        service.clock.advance(15 * 86_400)
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 19)
        try other.executeScript(unsafeSQL: "ROLLBACK")
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM membership_history WHERE change = 'exited'"), 20)
    }

    /// An event that pushes a lead's schedule later leaves the earlier time on its row (the
    /// indexed column untouched keeps the row update HOT); the sweeper then looks at the lead
    /// early, changes nothing and records nothing, and stores the exact time, when it exits.
    func testALaterScheduleWaitsForTheSweeperWhichThenStoresTheExactTime() throws {
        let service = try TestService(test: self, rulesYAML: Self.rules)
        try service.subscribeToEveryTopic()  // outbox rows are written for subscribed topics only
        let client = try service.client()
        let t0 = service.clock.now
        let day = 86_400.0
        func stored() throws -> Int { try service.count("SELECT extract(epoch FROM next_evaluation_at)::int8 FROM leads WHERE user_id = 'u-busy'") }
        var r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-busy", "event": "Product Viewed", "timestamp": iso(t0)])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try stored(), Int(t0.addingTimeInterval(14 * day).timeIntervalSince1970.rounded(.down)))

        service.clock.set(t0.addingTimeInterval(5 * day))
        r = try client.json("POST", "/v1/events", key: service.ingestKey, [
            "userId": "u-busy", "event": "Product Viewed", "timestamp": iso(t0.addingTimeInterval(5 * day))])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["next_evaluation_at"] as? String, iso(t0.addingTimeInterval(19 * day)), "the decision has the exact time")
        XCTAssertEqual(try stored(), Int(t0.addingTimeInterval(14 * day).timeIntervalSince1970.rounded(.down)), "the row keeps the earlier one")

        // Day 14: swept early — still a member, no decision, no outbox row; the exact time stored.
        service.clock.set(t0.addingTimeInterval(14 * day + 2))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM decisions WHERE event_id IS NULL"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'segment.exited'"), 0)
        XCTAssertEqual(try stored(), Int(t0.addingTimeInterval(19 * day).timeIntervalSince1970.rounded(.down)))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 0)

        // Day 19: the real exit.
        service.clock.set(t0.addingTimeInterval(19 * day + 2))
        XCTAssertEqual(try service.app.sweeper.sweepDue(), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM memberships"), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM outbox WHERE topic = 'segment.exited'"), 1)
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads WHERE next_evaluation_at IS NOT NULL"), 0)
    }
}
