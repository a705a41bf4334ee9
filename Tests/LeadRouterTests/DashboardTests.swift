import Foundation
import XCTest
@testable import HTTPAPI
@testable import LeadRouterService

/// `/dashboard` over a real socket: login and its cookie, CSRF refusal, Bearer/Basic for scripts,
/// anonymous redirects, the overview and segment detail pages, and HTML escaping.
final class DashboardTests: XCTestCase {
    let form = ["Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1"]

    func login(_ service: TestService, key: String) throws -> TestResponse {
        try service.client().request("POST", "/dashboard/login", headers: form, body: Array("key=\(key)".utf8))
    }

    func cookie(_ r: TestResponse) throws -> String {
        let set = try XCTUnwrap(r.header("set-cookie"))
        return String(set.split(separator: ";")[0])
    }

    func testAnonymousVisitorsAreSentToTheLoginForm() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        for path in ["/dashboard", "/dashboard/segments/awareness.early-intent.researcher"] {
            let r = try client.request("GET", path)
            XCTAssertEqual(r.status, 303, path)
            XCTAssertEqual(r.header("location"), "/dashboard/login")
        }
        let page = try client.request("GET", "/dashboard/login")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("content-type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.text.contains(#"<form method="post" action="/dashboard/login">"#), page.text)
    }

    func testLoginSetsASignedCookieWithoutTheKeyAndLogoutClearsIt() throws {
        let service = try TestService(test: self)
        let r = try login(service, key: service.readKey)
        XCTAssertEqual(r.status, 303, r.text)
        XCTAssertEqual(r.header("location"), "/dashboard")
        let set = try XCTUnwrap(r.header("set-cookie"))
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] { XCTAssertTrue(set.contains(attribute), set) }
        XCTAssertFalse(set.contains(service.readKey), "the cookie holds a signed token, not the key")
        let c = try cookie(r)
        let page = try service.client().request("GET", "/dashboard", headers: ["Cookie": c])
        XCTAssertEqual(page.status, 200, page.text)
        // A tampered token is anonymous.
        let tampered = String(c.dropLast()) + (c.hasSuffix("0") ? "1" : "0")
        XCTAssertEqual(try service.client().request("GET", "/dashboard", headers: ["Cookie": tampered]).status, 303)
        let out = try service.client().request("POST", "/dashboard/logout", headers: form.merging(["Cookie": c]) { $1 })
        XCTAssertEqual(out.status, 303)
        XCTAssertTrue(out.header("set-cookie")?.contains("Max-Age=0") == true, out.header("set-cookie") ?? "")
    }

    func testLoginRefusesWrongKeysMissingScopeAndCrossSitePosts() throws {
        let service = try TestService(test: self)
        let wrong = try login(service, key: "lr_nope")
        XCTAssertEqual(wrong.status, 401)
        XCTAssertNil(wrong.header("set-cookie"))
        XCTAssertTrue(wrong.text.contains("the API key is not valid"), wrong.text)
        let ingest = try login(service, key: service.ingestKey)
        XCTAssertEqual(ingest.status, 403)
        XCTAssertNil(ingest.header("set-cookie"))
        for headers in [["Origin": "http://evil.example"], ["Referer": "http://evil.example/x"], [:]] {
            let r = try service.client().request("POST", "/dashboard/login",
                                                 headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
                                                 body: Array("key=\(service.readKey)".utf8))
            XCTAssertEqual(r.status, 403, "\(headers)")
            XCTAssertNil(r.header("set-cookie"))
        }
        let viaReferer = try service.client().request("POST", "/dashboard/login", headers: ["Referer": "http://127.0.0.1/dashboard/login"],
                                                      body: Array("key=\(service.readKey)".utf8))
        XCTAssertEqual(viaReferer.status, 303)
    }

    func testScriptsUseBearerOrBasic() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        XCTAssertEqual(try client.request("GET", "/dashboard", headers: ["Authorization": "Bearer \(service.readKey)"]).status, 200)
        let basic = Data("\(service.readKey):".utf8).base64EncodedString()
        XCTAssertEqual(try client.request("GET", "/dashboard", headers: ["Authorization": "Basic \(basic)"]).status, 200)
        XCTAssertEqual(try client.request("GET", "/dashboard", headers: ["Authorization": "Bearer \(service.ingestKey)"]).status, 403)
        XCTAssertEqual(try client.request("GET", "/dashboard", headers: ["Authorization": "Bearer lr_wrong"]).status, 401)
    }

    func testOverviewAndSegmentDetailShowMetricsAndCharts() throws {
        let service = try TestService(test: self)
        for user in ["d-1", "d-2"] {
            XCTAssertEqual(try service.send("/v1/identify", ["userId": user, "traits": ["email": "\(user)@example.com"]]).status, 200)
            XCTAssertEqual(try service.send("/v1/track", ["userId": user, "event": "Product Viewed"]).status, 200)
        }
        let auth = ["Authorization": "Bearer \(service.readKey)"]
        let overview = try service.client().request("GET", "/dashboard", headers: auth)
        XCTAssertEqual(overview.status, 200, overview.text)
        XCTAssertTrue(overview.text.contains(#"id="ruleset-version""#), overview.text)
        XCTAssertTrue(overview.text.contains("<h2>Stage awareness</h2>"), overview.text)
        XCTAssertTrue(overview.text.contains(#"href="/dashboard/segments/awareness.early-intent.researcher""#), overview.text)
        XCTAssertTrue(overview.text.contains(#"<circle class="point""#), "sparklines have data points")
        try checkStageFunnel(overview.text)
        XCTAssertFalse(overview.text.contains("<script"), "no JavaScript")
        XCTAssertNotNil(overview.header("content-security-policy"))

        let name = "awareness.early-intent.researcher"
        let detail = try service.client().request("GET", "/dashboard/segments/\(name)", headers: auth)
        XCTAssertEqual(detail.status, 200, detail.text)
        XCTAssertTrue(detail.text.contains("<h1>\(name)</h1>"), detail.text)
        XCTAssertTrue(detail.text.contains("Enter when"), detail.text)
        XCTAssertGreaterThanOrEqual(detail.text.components(separatedBy: #"<circle class="point""#).count - 1, 30, "one point per day")
        XCTAssertEqual(try service.client().request("GET", "/dashboard/segments/nope", headers: auth).status, 404)
    }

    func testLeadLookupByEmailUserIdAndLeadIdEscapesTraits() throws {
        let service = try TestService(test: self)
        XCTAssertEqual(try service.send("/v1/identify", ["userId": "look-1", "traits": [
            "email": "look@example.com", "name": "<script>alert(1)</script>"]]).status, 200)
        XCTAssertEqual(try service.send("/v1/track", ["userId": "look-1", "event": "Product Viewed"]).status, 200)
        let auth = ["Authorization": "Bearer \(service.readKey)"]
        let byEmail = try service.client().request("GET", "/dashboard/leads?q=look%40example.com", headers: auth)
        XCTAssertEqual(byEmail.status, 200, byEmail.text)
        XCTAssertFalse(byEmail.text.contains("<script>alert(1)</script>"), "a trait is never markup")
        XCTAssertTrue(byEmail.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), byEmail.text)
        XCTAssertTrue(byEmail.text.contains("Timeline, newest first"), byEmail.text)
        XCTAssertTrue(byEmail.text.contains(#"class="card timeline decision""#), byEmail.text)
        let marker = #"<code id="lead-id">"#
        let start = try XCTUnwrap(byEmail.text.range(of: marker)).upperBound
        let id = String(byEmail.text[start...].prefix(36))
        XCTAssertNotNil(UUID(uuidString: id), id)
        for q in ["look-1", id] {
            let r = try service.client().request("GET", "/dashboard/leads?q=\(q)", headers: auth)
            XCTAssertEqual(r.status, 200, q)
            XCTAssertTrue(r.text.contains(marker + id), q)
        }
        let missing = try service.client().request("GET", "/dashboard/leads?q=nobody%40example.com", headers: auth)
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue(missing.text.contains("No lead matches nobody@example.com"), missing.text)
        XCTAssertEqual(try service.client().request("GET", "/dashboard/leads", headers: auth).status, 200, "the empty form")
    }

    func testValuesAreHTMLEscaped() throws {
        let html = DashboardTemplates.library.render(["title": "<script>alert(1)</script>", "name": "a&b\"'"], withTemplate: "segment") ?? ""
        XCTAssertFalse(html.contains("<script>alert(1)</script>"), html)
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html)
        XCTAssertTrue(html.contains("a&amp;b&quot;"), html)
    }

    func testSessionTokensExpireAndResistTampering() {
        let session = DashboardSession(secret: Array(repeating: 7, count: 32), lifetime: 60)
        let id = UUID()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = session.token(keyID: id, now: now)
        XCTAssertEqual(session.verify(token, now: now), id)
        XCTAssertNil(session.verify(token, now: now.addingTimeInterval(61)), "expired")
        XCTAssertNil(DashboardSession(secret: Array(repeating: 8, count: 32)).verify(token, now: now), "another secret")
        let parts = token.split(separator: ".")
        XCTAssertNil(session.verify("\(UUID().uuidString.lowercased()).\(parts[1]).\(parts[2])", now: now), "another key id")
        XCTAssertNil(session.verify("\(parts[0]).\(Int(parts[1])! + 1000).\(parts[2])", now: now), "a longer expiry")
        XCTAssertNil(session.verify("garbage", now: now))
    }

    /// The overview's stage funnel: a bar per stage of the sample ruleset in funnel order, a
    /// sparkline of 31 daily points per stage, and the two leads counted into awareness.
    func checkStageFunnel(_ html: String) throws {
        let start = try XCTUnwrap(html.range(of: #"<section id="stage-funnel">"#), "the overview has the stage funnel")
        let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
        let funnel = String(html[start.lowerBound..<end.upperBound])
        XCTAssertEqual(funnel.components(separatedBy: #"<rect class="bar""#).count - 1, 4, funnel)
        XCTAssertEqual(funnel.components(separatedBy: #"<circle class="point""#).count - 1, 4 * 31, "entries per day per stage: the 30 days before today and today")
        XCTAssertEqual(funnel.components(separatedBy: "<tr data-stage=").dropFirst().map { String($0.prefix(while: { $0 != ">" })) },
                       [#""awareness""#, #""consideration""#, #""decision""#, #""retention""#], "funnel order")
        XCTAssertTrue(funnel.contains(#"<tr data-stage="awareness"><td>awareness</td><td class="num entries">2</td>"#), funnel)
    }
}
