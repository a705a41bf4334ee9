import Foundation
import XCTest
@testable import HTTPAPI
@testable import Ingest
@testable import LeadRouterService

/// The dashboard's panels over a real socket: drift alerts on the overview (with the segments and
/// owners affected), the overview's one-statement metrics read, recent entries and exits on the
/// segment page, the lead's event timeline, and login cookies valid on every node and after a restart.
final class DashboardPanelsTests: XCTestCase {
    /// Entered by a second skincare product view.
    let skincare = "consideration.mid-intent.skincare-sets"

    func auth(_ service: TestService) -> [String: String] { ["Authorization": "Bearer \(service.readKey)"] }

    func testOverviewListsDriftAlertsWithTheSegmentsAndOwnersTheyAffect() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        for event in ["Demo Request", "<script>alert('drift')</script>"] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "drift-1", "event": event]).status, 200)
        }
        let report = try service.app.drift.report()
        let alert = try XCTUnwrap(report.alerts.first { $0.subject == "Demo Request" })
        XCTAssertFalse(alert.readers.segments.isEmpty, "requested_demo is read by some segment")
        let page = try service.client().request("GET", "/dashboard", headers: auth(service))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains(#"<table id="drift-alerts">"#), page.text)
        XCTAssertEqual(page.text.components(separatedBy: #"<tr class="drift-alert">"#).count - 1, report.alerts.count, page.text)
        XCTAssertTrue(page.text.contains("<code>Demo Request</code>"), page.text)
        for segment in alert.readers.segments {
            XCTAssertTrue(page.text.contains(#"<a href="/dashboard/segments/\#(segment)">"#), segment)
        }
        for owner in alert.readers.owners { XCTAssertTrue(page.text.contains(owner), owner) }
        XCTAssertFalse(page.text.contains("<script>alert('drift')</script>"), "an event name is never markup")
        XCTAssertTrue(page.text.contains("&lt;script&gt;alert(&#39;drift&#39;)&lt;/script&gt;")
                      || page.text.contains("&lt;script&gt;alert('drift')&lt;/script&gt;"), page.text)
    }

    func testOverviewWithoutAlertsSaysSo() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        let page = try service.client().request("GET", "/dashboard", headers: auth(service))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains("No drift alerts."), page.text)
    }

    /// The overview's single statement gives what one report per segment gives, across a day
    /// boundary (whole days from the daily rollup, today's hours from the hourly one) and with
    /// history before the 30 days.
    func testOverviewReadMatchesThePerSegmentReports() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        let days: [Double] = [-40, -3, -1, 0]
        for (i, offset) in days.enumerated() {
            service.clock.set(Date(timeIntervalSince1970: 1_795_000_000 + offset * 86_400))
            for user in ["o-\(i)-a", "o-\(i)-b"] {
                for _ in 0..<2 { XCTAssertEqual(try service.send("/v1/track", ["userId": user, "event": "Product Viewed",
                                                                               "properties": ["category": "skincare-sets"]]).status, 200) }
            }
        }
        let reads = SegmentMetricsReads(pool: service.app.pool)
        let now = service.clock.now.addingTimeInterval(7200)
        let from = now.addingTimeInterval(-30 * 86_400)
        let names = service.app.engine.ruleset.segments.map(\.name)
        let overview = try reads.overview(segments: names, from: from, to: now)
        XCTAssertEqual(overview.count, names.count)
        var compared = 0
        for name in names {
            let one = try reads.report(segment: name, from: from, to: now, interval: .day)
            let both = try XCTUnwrap(overview[name])
            XCTAssertEqual(both.steps, one.steps, name)
            XCTAssertEqual(both.totals, one.totals, name)
            if one.totals.entries > 0 { compared += 1 }
        }
        XCTAssertGreaterThan(compared, 0, "some segment had entries in the range")
    }

    func testSegmentPageListsRecentEntriesAndExitsWithTheirCause() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "seg-1", "traits": ["email": "seg1@example.com", "name": "<b>x</b>"]]).status, 200)
        for _ in 0..<2 {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "seg-1", "event": "Product Viewed", "properties": ["category": "skincare-sets"]]).status, 200)
        }
        let lead = try XCTUnwrap(try service.app.pool.withConnection { conn in
            try conn.query("SELECT lead_id FROM membership_history WHERE segment = \(self.skincare) LIMIT 1").first?.decode(UUID.self, "lead_id")
        }).uuidString.lowercased()
        let page = try service.client().request("GET", "/dashboard/segments/\(skincare)", headers: auth(service))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains(#"<table id="recent-changes">"#), page.text)
        XCTAssertTrue(page.text.contains(#"<a href="/dashboard/leads?q=\#(lead)">"#), page.text)
        let rows = page.text.components(separatedBy: #"<tr class="change">"#).dropFirst()
        let entered = try XCTUnwrap(rows.first { $0.contains("<td>entered</td>") }, page.text)
        XCTAssertTrue(entered.contains("decision #"), entered)
        XCTAssertTrue(entered.contains("“Product Viewed” (product_viewed)"), entered)
        XCTAssertTrue(entered.contains("not lead.customer ✓ and"), "the rule read with its values: \(entered)")
        XCTAssertTrue(entered.contains("<details><summary>explanation</summary><pre>"), "the whole explanation")
        XCTAssertFalse(page.text.contains("<b>x</b>"), "no trait is markup")

        // Store level: newest first, each joined to its decision and event.
        let changes = try LeadReads(pool: service.app.pool).recentChanges(of: skincare, limit: 20)
        XCTAssertFalse(changes.isEmpty)
        XCTAssertNotNil(changes.first?.decisionSeq)
        XCTAssertEqual(changes.map(\.occurredAt), changes.map(\.occurredAt).sorted(by: >))
    }

    func testLeadPageShowsRawEventsInterleavedWithChangesAndDecisions() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "tl-1", "traits": ["email": "tl@example.com"]]).status, 200)
        service.clock.advance(60)
        XCTAssertEqual(try service.send("/v1/track", ["userId": "tl-1", "event": "Product Viewed",
                                                      "properties": ["category": "<img src=x onerror=alert(1)>"]]).status, 200)
        service.clock.advance(60)
        // Two views at one instant (as a batch's messages are): each stays with its own decision.
        for _ in 0..<2 {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "tl-1", "event": "Product Viewed", "properties": ["category": "skincare-sets"]]).status, 200)
        }
        let page = try service.client().request("GET", "/dashboard/leads?q=tl-1", headers: auth(service))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains("Timeline, newest first"), page.text)
        let cards = page.text.components(separatedBy: #"<div class="card timeline "#).dropFirst().map { String($0.prefix(while: { $0 != "\"" })) }
        XCTAssertEqual(cards.filter { $0 == "event" }.count, 4, "\(cards)")
        XCTAssertTrue(cards.contains("entered"), "\(cards)")
        // Newest first: the last view's decision, the entries it made (skincare-sets, and browser at
        // the third view), then the view itself.
        let firstEvent = try XCTUnwrap(cards.firstIndex(of: "event"))
        XCTAssertEqual(cards.first, "decision", "\(cards)")
        XCTAssertGreaterThan(firstEvent, 1, "\(cards)")
        XCTAssertEqual(Set(cards[1..<firstEvent]), ["entered"], "\(cards)")
        XCTAssertEqual(Array(cards[firstEvent...].prefix(3)), ["event", "decision", "event"],
                       "the first view's decision and event come after the second's, not mixed with them: \(cards)")
        XCTAssertTrue(page.text.contains("track “Product Viewed” → product_viewed"), page.text)
        XCTAssertFalse(page.text.contains("<img src=x"), "event properties are never markup")
        XCTAssertTrue(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"), page.text)
    }

    /// A cookie set by one node is accepted by another node on the same database and by a node
    /// started later: the signing secret is a database row (migration 0051), not per process.
    func testLoginCookieWorksOnEveryNodeAndAfterARestart() throws {
        let service = try TestService(test: self) { $0.runDriftJobs = false }
        let login = try service.client().request("POST", "/dashboard/login",
                                                 headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1"],
                                                 body: Array("key=\(service.readKey)".utf8))
        XCTAssertEqual(login.status, 303, login.text)
        let cookie = String(try XCTUnwrap(login.header("set-cookie")).split(separator: ";")[0])
        for round in 0..<2 {
            var options = LeadRouterApp.Options(databaseURL: service.url, rulesYAML: try String(
                contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8), rulesFileName: "config/segments.yaml")
            options.migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
            options.server.host = "127.0.0.1"
            options.server.port = 0
            options.runSweeper = false
            options.runDriftJobs = false
            options.webhooks.enabled = false
            let clock = service.clock
            options.clock = { clock.now }
            let other = try LeadRouterApp(options: options, logger: TestDatabases.logger)
            try other.start()
            defer { other.stop() }
            let page = try TestHTTPClient(port: other.port!).request("GET", "/dashboard", headers: ["Cookie": cookie])
            XCTAssertEqual(page.status, 200, "node \(round): \(page.text.prefix(200))")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM dashboard_session_secret"), 1, "one secret, made by the first node")
    }
}
