import Foundation
import XCTest
@testable import LeadRouterService

/// The dashboard in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`,
/// Selenium from PyPI; scripts/test.sh installs all three) runs `Tests/browser/dashboard_driver.py`:
/// login form, overview, segment detail, lead lookup, logout; no console errors, charts with
/// data points, a `<script>` trait shown as text. Screenshots go to a temporary folder, or to
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
        let email = "dash.browser@example.com"
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "dash-browser", "traits": [
            "email": email, "name": "<script>alert('lr')</script>", "company": "Trail & Co"]]).status, 200)
        for event in ["Product Viewed", "Product Added"] {
            XCTAssertEqual(try service.send("/v1/track", ["userId": "dash-browser", "event": event]).status, 200)
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
        for page in ["login", "overview", "segment", "lead"] {
            for size in ["1280x800", "390x844"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(shots)/dashboard-\(page)-\(size).png"), "\(page) \(size)")
            }
        }
    }
}
