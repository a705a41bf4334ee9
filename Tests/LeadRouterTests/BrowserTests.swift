import Foundation
import Postgres
import XCTest
@testable import LeadRouterService
@testable import LeadStore

/// A real browser: headless Chromium (Debian's `chromium` and `chromium-driver`, driven by
/// Selenium from PyPI; scripts/test.sh installs all three) runs `Tests/browser/lr_browser_driver.py`.
/// Its pages come from two other loopback origins: one in `ingest.cors_allowed_origins`, one
/// not. On the allowed one, lr.js (loaded from the service) sends queued and helper calls, an
/// SPA navigation and a `sendBeacon` on page hide, and holds everything back until consent;
/// a page script posts as analytics.js does (text/plain `fetch`, `sendBeacon`) and as a page
/// sending preflighted JSON with Basic auth does. From the other origin the same requests are
/// refused and store nothing. This test then reads what landed.
final class BrowserTests: XCTestCase {
    func testLRJSAndAnalyticsJSRequestsFromAnotherOriginInARealBrowser() throws {
        for binary in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw XCTSkip("\(binary) is missing (apt-get install chromium chromium-driver)")
        }
        guard try runProcess("/usr/bin/env", ["python3", "-c", "import selenium"]).status == 0 else {
            throw XCTSkip("selenium is not installed (pip install selenium)")
        }
        let allowed = try RawServer.freePort()
        var refused = try RawServer.freePort()
        while refused == allowed { refused = try RawServer.freePort() }
        // Real time: the browser stamps events with its own clock.
        let service = try TestService(test: self, start: Date()) {
            $0.corsAllowedOrigins = AllowedOrigins(origins: ["http://127.0.0.1:\(allowed)"])
        }
        let webKey = try service.app.createKey(APIKeySettings(name: "web", scopes: [.ingest], isPublic: true))
        let driver = repositoryRoot.appendingPathComponent("Tests/browser/lr_browser_driver.py").path
        let run = try runProcess("/usr/bin/env", ["python3", driver, "http://127.0.0.1:\(service.port)", webKey, service.readKey,
                                                  String(allowed), String(refused)])
        XCTAssertEqual(run.status, 0, run.output)
        let steps = run.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        func step(_ name: String) -> [String: Any]? { steps.first { $0["step"] as? String == name } }
        XCTAssertNotNil(step("done"), run.output)
        let anonymousId = try XCTUnwrap(step("lrjs")?["anonymous_id"] as? String, run.output)
        let consentId = try XCTUnwrap(step("consent")?["anonymous_id"] as? String, run.output)

        let client = try service.client()
        // lr.js: the queued identify, the landing page with its campaign, the helpers, the SPA
        // page, the beacon — one lead, its source from utm_medium=email.
        let lead = try client.json("GET", "/v1/leads?user_id=browser-user-1", key: service.readKey)
        XCTAssertEqual(lead.status, 200, lead.text)
        XCTAssertEqual(lead.json["email"] as? String, "browser.user@example.com")
        XCTAssertEqual(lead.json["anonymous_ids"] as? [String], [anonymousId])
        let source = lead.json["source"] as? [String: Any]
        XCTAssertEqual((source?["first"] as? [String: Any])?["channel"] as? String, "email_newsletter", lead.text)
        let leadId = try XCTUnwrap(lead.json["id"] as? String)
        let rows = try service.storedEvents(where: "lead_id = '\(leadId)'").map { event in
            let context = event.message["context"] as? [String: Any]
            let path = (event.message["properties"] as? [String: Any])?["path"] as? String ?? ""
            let library = (context?["library"] as? [String: Any])?["name"] as? String ?? "-"
            let medium = (context?["campaign"] as? [String: Any])?["medium"] as? String ?? ""
            return "\(event.type) \(path) \(library) \(medium)"
        }
        XCTAssertEqual(Set(rows), ["identify  lr.js email", "page_viewed /shop/landing lr.js email", "product_viewed  lr.js email",
                                   "page_viewed /shipping lr.js ", "added_to_cart  lr.js ", "checkout_started  lr.js ",
                                   "completed_checkout  lr.js ", "guide_downloaded  lr.js "], "\(rows)")
        XCTAssertEqual(rows.count, 8, "each message applied once: \(rows)")
        // The sample rules saw the page path: /shipping scores 5 besides view 3, cart 10,
        // checkout 15, guide 4; orderCompleted's "Order Completed" made a customer.
        XCTAssertEqual(try XCTUnwrap(lead.json["score"] as? Double), 37, accuracy: 0.1, lead.text)
        XCTAssertEqual(lead.json["status"] as? String, "converted", lead.text)
        XCTAssertEqual(lead.json["customer"] as? Bool, true, lead.text)

        // Consent: the held-back event arrived after lr.consent(true), once.
        XCTAssertEqual(try service.storedEvents(where: "type = 'pricing_viewed'").filter { $0.message["anonymousId"] as? String == consentId }.count, 1)

        // analytics.js's requests from the allowed origin landed; from the other origin, nothing.
        for id in ["ajs-allowed-t", "ajs-allowed-i", "ajs-allowed-p", "ajs-allowed-b"] {
            XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id = '\(id)'"), 1, id)
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id LIKE 'ajs-refused-%'"), 0)
        XCTAssertEqual(try service.storedEvents().filter { $0.message["anonymousId"] as? String == "ajs-refused-anon" }.count, 0)
        let ajs = try client.json("GET", "/v1/leads?user_id=ajs-allowed-user", key: service.readKey)
        XCTAssertEqual(ajs.status, 200, ajs.text)
        XCTAssertEqual(((ajs.json["source"] as? [String: Any])?["first"] as? [String: Any])?["channel"] as? String, "paid_search", ajs.text)
        XCTAssertEqual(try service.storedEvents(where: "message_id = 'ajs-allowed-p'").filter {
            ($0.message["properties"] as? [String: Any])?["path"] as? String == "/pricing"
        }.count, 1, "the beacon's page view, with its path")
    }
}
