import Foundation
import XCTest
@testable import LeadRouterService

/// The dashboard in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`,
/// Selenium from PyPI; scripts/test.sh installs all three) runs `Tests/browser/dashboard_driver.py`:
/// login form, overview (with its drift alerts), segment detail (with recent entries and exits),
/// lead lookup (with its event timeline), logout; no console errors, charts with data points, a
/// `<script>` trait and event name shown as text. Screenshots go to a temporary folder, or to
/// `DASHBOARD_SCREENSHOTS` when set (`DASHBOARD_SCREENSHOTS=docs/images` refreshes the README's).
final class DashboardBrowserTests: XCTestCase {
    func testLoginOverviewSegmentAndLeadLookupInARealBrowser() throws {
        for binary in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw XCTSkip("\(binary) is missing (apt-get install chromium chromium-driver)")
        }
        guard try runProcess("/usr/bin/env", ["python3", "-c", "import selenium"]).status == 0 else {
            throw XCTSkip("selenium is not installed (pip install selenium)")
        }
        let service = try TestService(test: self)
        try Self.seedThirtyDays(service)
        let email = "dash.browser@example.com"
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "dash-browser", "traits": [
            "email": email, "name": "<script>alert('lr')</script>", "company": "Trail & Co"]]).status, 200)
        // "Demo Request" and a markup-like name map to no event type: two drift alerts on the overview.
        for event in ["Product Viewed", "Product Added", "Demo Request", "<script>alert('ev')</script>"] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "dash-browser", "event": event]).status, 200)
            service.clock.advance(90)
        }
        for _ in 0..<2 {  // enters consideration.mid-intent.skincare-sets: an entry on the lead's timeline
            XCTAssertEqual(try service.send("/v1/track", ["userId": "dash-browser", "event": "Product Viewed",
                                                          "properties": ["category": "skincare-sets", "product_id": "serum-set"]]).status, 200)
        }
        let shots: String
        if let dir = ProcessInfo.processInfo.environment["DASHBOARD_SCREENSHOTS"], !dir.isEmpty {
            shots = dir.hasPrefix("/") ? dir : repositoryRoot.appendingPathComponent(dir).path
        } else {
            shots = FileManager.default.temporaryDirectory.appendingPathComponent("lr-dashboard-\(UUID().uuidString)").path
        }
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let driver = repositoryRoot.appendingPathComponent("Tests/browser/dashboard_driver.py").path
        let run = try runProcess("/usr/bin/env", ["python3", driver, "http://127.0.0.1:\(service.port)", service.readKey,
                                                  "awareness.early-intent.researcher", email, shots])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains(#""step": "done""#), run.output)
        for page in ["login", "overview", "overview-funnel", "segment", "segment-changes", "lead", "lead-timeline"] {
            for size in ["1280x800", "390x844"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(shots)/dashboard-\(page)-\(size).png"), "\(page) \(size)")
            }
        }
    }

    /// Thirty days of history through the HTTP API, the manual clock moved a day at a time, so
    /// sparklines, daily tables and recent changes have data (and the screenshots show it): each
    /// day one to three new researchers (two page views: `awareness.early-intent.researcher`);
    /// every fourth day a researcher of three days before views skincare products twice, which
    /// takes them out of it (a rule exit) and into `consideration.mid-intent.skincare-sets`.
    /// The clock ends where it started, plus a day.
    static func seedThirtyDays(_ service: TestService) throws {
        let end = service.clock.now.addingTimeInterval(86_400)
        service.clock.set(end.addingTimeInterval(-30 * 86_400))
        for day in 0..<30 {
            for k in 0..<(1 + day % 3) {
                for path in ["/guides/choosing-running-shoes", "/blog/skincare-routine"] {
                    XCTAssertEqual(try service.send("/v1/page", ["userId": "r-\(day)-\(k)", "name": "Guide", "properties": ["path": path]]).status, 200)
                    service.clock.advance(60)
                }
            }
            if day % 4 == 3 {
                for _ in 0..<2 {
                    XCTAssertEqual(try service.send("/v1/track", ["userId": "r-\(day - 3)-0", "event": "Product Viewed",
                                                                  "properties": ["category": "skincare-sets", "product_id": "night-set"]]).status, 200)
                }
            }
            service.clock.set(end.addingTimeInterval(Double(day - 29) * 86_400))
        }
        service.clock.set(end)
    }
}
