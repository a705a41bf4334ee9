import Foundation
import XCTest
@testable import Insight
@testable import LeadRouterService
@testable import LeadStore
@testable import Segmentation

/// Drift: the analysis against figures computed by hand from scripted hourly counts (manual
/// clock), and end to end — counts flushed to PostgreSQL, summed across nodes, `GET /v1/drift`.
final class DriftTests: XCTestCase {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func sampleRuleset(keyEvents: String) throws -> Ruleset {
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
        return try Ruleset.load(yaml: yaml + "\nkey_events:\n" + keyEvents, fileName: "segments.yaml").ruleset
    }

    func testTheAnalysisMatchesHandComputedFigures() throws {
        let ruleset = try Self.sampleRuleset(keyEvents: "  requested_demo: 2d\n  completed_checkout: 1d\n  trial_started: 7d\n")
        let now = Self.date("2026-11-30T10:20:00Z")  // the last complete hour is 09:00–10:00
        func row(_ kind: String, _ name: String, _ day: String, _ count: Int, hour: String = "09",
                 first: String = "10", last: String = "50") -> InsightCount {
            InsightCount(kind: kind, name: name, hour: Self.date("2026-11-\(day)T\(hour):00:00Z"), count: count,
                         firstSeen: Self.date("2026-11-\(day)T\(hour):\(first):00Z"), lastSeen: Self.date("2026-11-\(day)T\(hour):\(last):00Z"))
        }
        // The same 09:00 hour this week and the four before; on the 9th the service received nothing.
        let counts = [
            row("messages", "all", "30", 20), row("messages", "all", "23", 40), row("messages", "all", "16", 40), row("messages", "all", "02", 40),
            row("event_type", "product_viewed", "30", 12), row("event_type", "product_viewed", "23", 30),
            row("event_type", "product_viewed", "16", 34), row("event_type", "product_viewed", "02", 26),
            row("event_type", "requested_demo", "30", 1), row("event_type", "requested_demo", "23", 2),
            row("event_type", "requested_demo", "16", 2), row("event_type", "requested_demo", "02", 2),
            row("unmapped_event", "Demo Request", "30", 3), row("unmapped_event", "Demo Request", "30", 2, hour: "10", first: "05", last: "15"),
            row("unmapped_event", "zzqx_custom", "30", 1),
            row("capture", "valid_email", "30", 5), row("capture", "valid_email", "23", 30),
            row("capture", "country", "30", 10), row("capture", "country", "23", 20),
        ]
        let lastSeen = ["requested_demo": Self.date("2026-11-30T09:30:00Z"), "completed_checkout": Self.date("2026-11-26T10:00:00Z")]
        let rejected = [RejectedCount(day: "2026-11-29", reason: "/", count: 1), RejectedCount(day: "2026-11-29", reason: "/userId", count: 2),
                        RejectedCount(day: "2026-11-30", reason: "/userId", count: 3)]
        let report = DriftAnalysis.report(.init(counts: counts, lastSeen: lastSeen, rejected: rejected, ruleset: ruleset,
                                                lineage: Lineage(ruleset: ruleset), settings: DriftSettings(), now: now))

        XCTAssertEqual(report.hourEnding, Self.date("2026-11-30T10:00:00Z"))
        // product_viewed: 12 against (30 + 34 + 26) / 3 = 30 (the 9th left out) → −60 %, hour and day.
        let viewed = try XCTUnwrap(report.volumes.first { $0.eventType == "product_viewed" })
        XCTAssertEqual(viewed, .init(eventType: "product_viewed", lastHour: 12, hourBaseline: 30, lastDay: 12, dayBaseline: 30))
        // requested_demo: 1 against 2, but a baseline of 2 is under min_volume 20: no alert.
        XCTAssertEqual(report.volumes.first { $0.eventType == "requested_demo" }?.hourBaseline, 2)
        XCTAssertEqual(report.alerts.map(\.id), [
            "volume_drop:product_viewed:hour", "volume_drop:product_viewed:day",
            "unmapped_event:Demo Request:", "unmapped_event:zzqx_custom:",
            "key_event_silent:completed_checkout:", "key_event_silent:trial_started:",
            "capture_drop:valid_email:day",
        ])
        let drop = report.alerts[0]
        XCTAssertEqual(drop.current, 12); XCTAssertEqual(drop.baseline, 30); XCTAssertEqual(drop.change, -0.6)
        XCTAssertTrue(drop.readers.stages.contains("consideration"), "\(drop.readers)")
        XCTAssertFalse(drop.readers.segments.isEmpty)

        // "Demo Request": 3 + 2 messages, first 09:10, last 10:15, nearest to the alias "Demo Requested".
        XCTAssertEqual(report.unmapped.first, .init(name: "Demo Request", count: 5, firstSeen: Self.date("2026-11-30T09:10:00Z"),
                                                    lastSeen: Self.date("2026-11-30T10:15:00Z"), suggestedName: "Demo Requested",
                                                    suggestedType: "requested_demo"))
        XCTAssertEqual(report.unmapped.last?.suggestedType, nil)
        XCTAssertTrue(report.alerts[2].readers.stages.contains("decision"), "what requested_demo feeds")
        XCTAssertEqual(report.alerts[3].readers, Lineage.Readers(), "no suggestion, no lineage")

        // completed_checkout last seen 4 days ago (silence 1d); trial_started never; requested_demo 50 minutes ago.
        XCTAssertEqual(report.keyEvents.map(\.silent), [true, false, true])
        XCTAssertEqual(report.keyEvents.map(\.eventType), ["completed_checkout", "requested_demo", "trial_started"])
        XCTAssertNil(report.keyEvents[2].lastSeen)

        // valid_email: 5 of 20 messages in the last day, 30 of 40 in the 7 days before: 0.25 vs 0.75 → −66.7 %.
        let email = try XCTUnwrap(report.captures.first { $0.field == "valid_email" })
        XCTAssertEqual(email.lastDay, 0.25); XCTAssertEqual(email.baseline, 0.75)
        XCTAssertEqual(email.daily, [nil, nil, nil, nil, nil, nil, 0.25], "the 23rd's 09:00 is 169 h back: before the 7 days shown")
        XCTAssertEqual(report.alerts[6].change, -0.667)
        XCTAssertEqual(report.captures.first { $0.field == "country" }?.lastDay, 0.5, "0.5 both weeks: no alert")
        XCTAssertEqual(report.captures.first { $0.field == "known_source" }?.lastDay, 0)
        XCTAssertEqual(report.rejected, ["/": 1, "/userId": 5])

        // A lower threshold and volume floor raise the requested_demo drop too (1 vs 2: −50 %).
        var settings = DriftSettings(); settings.minimumVolume = 2
        let looser = DriftAnalysis.report(.init(counts: counts, lastSeen: lastSeen, rejected: [], ruleset: ruleset,
                                                lineage: Lineage(ruleset: ruleset), settings: settings, now: now))
        XCTAssertTrue(looser.alerts.contains { $0.id == "volume_drop:requested_demo:hour" })
    }

    func testCountsAreStoredSummedAcrossNodesAndReported() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false; $0.metricsCacheSeconds = 0 }
        let start = service.clock.now
        for event in ["Product Viewed", "Product Viewed", "Demo Request"] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "d-1", "event": event]).status, 200)
        }
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "d-1", "traits": ["email": "d1@acme.io"]]).status, 200)
        let client = try service.client()
        XCTAssertEqual(try client.json("GET", "/v1/drift", key: service.ingestKey).status, 403)
        var r = try client.json("GET", "/v1/drift", key: service.readKey)
        XCTAssertEqual(r.status, 200, r.text)
        let unmapped = try XCTUnwrap(r.json["unmapped"] as? [[String: Any]])
        XCTAssertEqual(unmapped.count, 1, r.text)
        XCTAssertEqual(unmapped[0]["name"] as? String, "Demo Request")
        XCTAssertEqual(unmapped[0]["count"] as? Int, 1)
        XCTAssertEqual(unmapped[0]["suggested_type"] as? String, "requested_demo")
        XCTAssertEqual(unmapped[0]["first_seen"] as? String, iso(start))
        let alerts = try XCTUnwrap(r.json["alerts"] as? [[String: Any]])
        let alert = try XCTUnwrap(alerts.first { $0["kind"] as? String == "unmapped_event" })
        XCTAssertTrue((alert["stages"] as? [String] ?? []).contains("decision"), "\(alert)")
        XCTAssertEqual(try service.count("SELECT sum(count)::int FROM insight_counts WHERE kind = 'messages'"), 4, "flushed by the report")
        XCTAssertEqual(try service.count("SELECT sum(count)::int FROM insight_counts WHERE kind = 'capture' AND name = 'valid_email'"), 1,
                       "only the identify left the lead with an email")

        // A second node's counts for the same hour add to the first's.
        let other = DriftCounters()
        for _ in 0..<2 {
            other.observed(MessageObservation(at: start, eventType: "product_viewed", unmappedName: nil, captured: [.validEmail]))
        }
        XCTAssertEqual(try other.flush(pool: service.app.pool), 3, "messages, product_viewed and valid_email rows")
        XCTAssertEqual(try other.flush(pool: service.app.pool), 0, "nothing pending")
        XCTAssertEqual(try service.count("SELECT count::int FROM insight_counts WHERE kind = 'event_type' AND name = 'product_viewed'"), 4)

        // An hour later the hour is complete: 4 product_viewed in the last hour and day, no baseline yet.
        service.clock.advance(3600)
        r = try client.json("GET", "/v1/drift", key: service.readKey)
        let volumes = try XCTUnwrap(r.json["volumes"] as? [[String: Any]])
        let viewed = try XCTUnwrap(volumes.first { $0["event_type"] as? String == "product_viewed" })
        XCTAssertEqual(viewed["last_hour"] as? Int, 4)
        XCTAssertEqual(viewed["last_day"] as? Int, 4)
        XCTAssertTrue(viewed["hour_baseline"] is NSNull, "no previous week yet")
        let scrape = try client.json("GET", "/metrics", key: service.readKey).text
        XCTAssertTrue(scrape.contains(#"leadrouter_drift_alerts{kind="unmapped_event"} 1"#), scrape)
    }
}

/// `drift.detected`: one outbox message per alert occurrence, with the owners it affects.
final class DriftWebhookTests: XCTestCase {
    func testEachAlertIsAnnouncedOnceWhileItLasts() throws {
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
            + "\nkey_events:\n  requested_demo: 1h\n"
        let service = try TestService(test: self, rulesYAML: yaml) { $0.runDriftJobs = false }
        try service.subscribeToEveryTopic()  // outbox rows are written only for subscribed topics
        let drift = service.app.drift
        func announced() throws -> Int { try service.count("SELECT count(*) FROM outbox WHERE topic = 'drift.detected'") }

        XCTAssertEqual(try drift.check(), 1, "requested_demo has never been received")
        XCTAssertEqual(try drift.check(), 0, "still open: not announced again")
        let payload = try service.connection().query(.init(unsafeRaw: """
            SELECT payload::text AS p, lead_id::text AS l FROM outbox WHERE topic = 'drift.detected'
            """)).first
        let text = try XCTUnwrap(payload?.decode(String.self, "p"))
        let alert = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(alert["id"] as? String, "key_event_silent:requested_demo:")
        XCTAssertEqual(alert["detected_at"] as? String, iso(service.clock.now))
        XCTAssertFalse((alert["owners"] as? [String] ?? []).isEmpty, "the owners of the segments reading requested_demo: \(text)")
        XCTAssertEqual(try payload?.decode(String.self, "l"), "00000000-0000-0000-0000-000000000000")

        // The key event arrives: the alert clears. Two hours of silence later it is back, and announced again.
        XCTAssertEqual(try service.send("/v1/track", ["userId": "w-1", "event": "Demo Requested"]).status, 200)
        XCTAssertEqual(try drift.check(), 0)
        XCTAssertEqual(try service.count("SELECT count(*) FROM drift_alerts WHERE resolved_at IS NOT NULL"), 1)
        service.clock.advance(2 * 3600)
        XCTAssertEqual(try drift.check(), 1)
        XCTAssertEqual(try announced(), 2)
    }
}
