import Foundation
import LeadRouterService
import LeadStore
import XCTest

/// What browsers and the analytics.js family need from ingest: CORS (a global default, a key's
/// own list, preflights, never credentials), `text/plain` JSON bodies with the write key inside,
/// the one-letter and batch paths, the settings document, `/v1/m`, and `integrations`.
final class BrowserIngestTests: XCTestCase {
    static let shop = "https://shop.example.com"
    static let elsewhere = "https://evil.example.net"

    func service(origins: String = shop) throws -> TestService {
        try TestService(test: self) { $0.corsAllowedOrigins = try! AllowedOrigins.parse(origins) }
    }

    func track(_ id: String, key: String, extra: [String: Any] = [:]) -> [UInt8] {
        var message: [String: Any] = ["type": "track", "event": "Product Viewed", "anonymousId": "anon-\(id)", "messageId": id,
                                      "writeKey": key, "properties": ["product_id": "p1"]]
        message.merge(extra) { $1 }
        return Array(try! JSONSerialization.data(withJSONObject: message))
    }

    func testTextPlainFromAnAllowedOriginIsAppliedAndReadable() throws {
        let service = try service()
        let client = try service.client()
        let r = try client.request("POST", "/v1/t", headers: ["Content-Type": "text/plain", "Origin": Self.shop], body: track("m-1", key: service.ingestKey))
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["success"] as? Bool, true)
        XCTAssertEqual(r.header("Access-Control-Allow-Origin"), Self.shop)
        XCTAssertEqual(r.header("Vary"), "Origin")
        XCTAssertNil(r.header("Access-Control-Allow-Credentials"))
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
        // An error from an allowed origin carries the headers too, so the page can read it.
        let bad = try client.request("POST", "/v1/t", headers: ["Content-Type": "text/plain", "Origin": Self.shop],
                                     body: Array(#"{"writeKey":"\#(service.ingestKey)","event":"x"}"#.utf8))
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertEqual(bad.header("Access-Control-Allow-Origin"), Self.shop)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
    }

    func testAnOriginNotAllowedIsRefusedWithoutCORSHeadersAndStoresNothing() throws {
        let service = try service()
        let client = try service.client()
        let r = try client.request("POST", "/v1/t", headers: ["Content-Type": "text/plain", "Origin": Self.elsewhere], body: track("m-2", key: service.ingestKey))
        XCTAssertEqual(r.status, 403, r.text)
        XCTAssertNil(r.header("Access-Control-Allow-Origin"))
        XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0)
        let preflight = try client.request("OPTIONS", "/v1/batch", headers: ["Origin": Self.elsewhere, "Access-Control-Request-Method": "POST"])
        XCTAssertEqual(preflight.status, 403, preflight.text)
        XCTAssertNil(preflight.header("Access-Control-Allow-Origin"))
        // An unknown key from an allowed origin: the 401 is readable by the page (no endless
        // SDK retries of an opaque network error); from another origin it is not.
        let unknown = Array(#"{"writeKey":"lr_unknown","event":"x","userId":"u"}"#.utf8)
        let readable = try client.request("POST", "/v1/t", headers: ["Origin": Self.shop], body: unknown)
        XCTAssertEqual(readable.status, 401, readable.text)
        XCTAssertEqual(readable.header("Access-Control-Allow-Origin"), Self.shop)
        XCTAssertNotNil(readable.header("WWW-Authenticate"))
        let opaque = try client.request("POST", "/v1/b", headers: ["Origin": Self.elsewhere], body: unknown)
        XCTAssertEqual(opaque.status, 401, opaque.text)
        XCTAssertNil(opaque.header("Access-Control-Allow-Origin"))
        // Without an Origin (a server, an app) CORS does not apply.
        let server = try client.request("POST", "/v1/track", headers: ["Content-Type": "application/json"], body: track("m-3", key: service.ingestKey))
        XCTAssertEqual(server.status, 200, server.text)
        XCTAssertNil(server.header("Access-Control-Allow-Origin"))
    }

    func testPreflightIsAnsweredForEveryIngestPath() throws {
        let service = try service()
        let client = try service.client()
        for path in ["/v1/t", "/v1/p", "/v1/i", "/v1/g", "/v1/a", "/v1/s", "/v1/b", "/v1/batch", "/v1/import", "/v1/track", "/v1/m"] {
            let r = try client.request("OPTIONS", path, headers: ["Origin": Self.shop, "Access-Control-Request-Method": "POST",
                                                                  "Access-Control-Request-Headers": "content-type, authorization"])
            XCTAssertEqual(r.status, 204, "\(path): \(r.text)")
            XCTAssertEqual(r.header("Access-Control-Allow-Origin"), Self.shop, path)
            XCTAssertEqual(r.header("Access-Control-Allow-Methods"), "POST, OPTIONS", path)
            XCTAssertEqual(r.header("Access-Control-Allow-Headers"), "content-type, authorization", path)
            XCTAssertEqual(r.header("Access-Control-Max-Age"), "600", path)
            XCTAssertNil(r.header("Access-Control-Allow-Credentials"), path)
        }
        let wrongMethod = try client.request("OPTIONS", "/v1/t", headers: ["Origin": Self.shop, "Access-Control-Request-Method": "DELETE"])
        XCTAssertEqual(wrongMethod.status, 403, wrongMethod.text)
    }

    func testAKeysOwnOriginsReplaceTheDefaultSetThroughTheKeysAPI() throws {
        let service = try service(origins: "")
        let client = try service.client()
        let created = try client.json("POST", "/v1/keys", key: service.adminKey,
                                      ["name": "storefront", "public": true, "cors_allowed_origins": ["https://Shop.Example.com"]])
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json["cors_allowed_origins"] as? [String], [Self.shop])
        let key = try XCTUnwrap(created.json["key"] as? String), id = try XCTUnwrap(created.json["id"] as? String)

        // The default allows nothing; the key allows the shop, for its own requests only.
        XCTAssertEqual(try client.request("POST", "/v1/t", headers: ["Origin": Self.shop], body: track("k-1", key: key)).status, 200)
        XCTAssertEqual(try client.request("POST", "/v1/t", headers: ["Origin": Self.shop], body: track("k-2", key: service.ingestKey)).status, 403)
        XCTAssertEqual(try client.request("OPTIONS", "/v1/t", headers: ["Origin": Self.shop, "Access-Control-Request-Method": "POST"]).status, 204,
                       "a preflight carries no key: an origin some key allows is answered")
        XCTAssertEqual(try client.request("OPTIONS", "/v1/t", headers: ["Origin": Self.elsewhere, "Access-Control-Request-Method": "POST"]).status, 403)

        let any = try client.json("PATCH", "/v1/keys/\(id)", key: service.adminKey, ["cors_allowed_origins": ["*"]])
        XCTAssertEqual(any.status, 200, any.text)
        XCTAssertEqual(any.json["cors_allowed_origins"] as? [String], ["*"])
        let r = try client.request("POST", "/v1/t", headers: ["Origin": Self.elsewhere], body: track("k-3", key: key))
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.header("Access-Control-Allow-Origin"), Self.elsewhere)

        let cleared = try client.json("PATCH", "/v1/keys/\(id)", key: service.adminKey, ["cors_allowed_origins": NSNull()])
        XCTAssertEqual(cleared.status, 200, cleared.text)
        XCTAssertTrue(cleared.json["cors_allowed_origins"] is NSNull)
        XCTAssertEqual(try client.request("POST", "/v1/t", headers: ["Origin": Self.elsewhere], body: track("k-4", key: key)).status, 403)

        for bad: Any in [["shop.example.com"], ["https://shop.example.com/"], ["*", "https://a.example"], "https://a.example"] {
            let refused = try client.json("PATCH", "/v1/keys/\(id)", key: service.adminKey, ["cors_allowed_origins": bad])
            XCTAssertEqual(refused.status, 422, "\(bad): \(refused.text)")
        }
        XCTAssertEqual(try client.json("PATCH", "/v1/keys/\(id)", key: service.adminKey, ["name": "x"]).status, 422)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 2)
    }

    func testOneLetterAndBatchPathsAndTheBodyWriteKey() throws {
        let service = try service()
        let client = try service.client()
        let key = service.ingestKey
        let singles: [(String, [String: Any])] = [
            ("/v1/p", ["type": "page", "name": "Home", "anonymousId": "a-1", "messageId": "s-p"]),
            ("/v1/i", ["type": "identify", "userId": "u-1", "traits": ["email": "u1@example.com"], "messageId": "s-i"]),
            ("/v1/g", ["type": "group", "userId": "u-1", "groupId": "acct-1", "messageId": "s-g"]),
            ("/v1/a", ["type": "alias", "userId": "u-1", "previousId": "a-1", "messageId": "s-a"]),
            ("/v1/s", ["type": "screen", "name": "Cart", "userId": "u-1", "messageId": "s-s"]),
        ]
        for (path, var message) in singles {
            message["writeKey"] = key
            let r = try client.request("POST", path, headers: ["Content-Type": "text/plain"], body: Array(try JSONSerialization.data(withJSONObject: message)))
            XCTAssertEqual(r.status, 200, "\(path): \(r.text)")
        }
        for (n, path) in ["/v1/b", "/v1/import", "/v1/batch"].enumerated() {
            let batch: [String: Any] = ["writeKey": key, "batch": [["type": "track", "event": "Product Viewed", "userId": "u-1", "messageId": "b-\(n)"]]]
            let r = try client.request("POST", path, headers: ["Content-Type": "text/plain"], body: Array(try JSONSerialization.data(withJSONObject: batch)))
            XCTAssertEqual(r.status, 200, "\(path): \(r.text)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages"), 8)
        // No key anywhere: 401, nothing stored.
        let anonymous = try client.request("POST", "/v1/t", headers: ["Content-Type": "text/plain"], body: Array(#"{"event":"x","userId":"u"}"#.utf8))
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
    }

    func testIntegrationsThatLeaveLeadrouterOutAreAcceptedAndNotApplied() throws {
        let service = try service()
        let client = try service.client()
        let cases: [(String, [String: Any], Bool)] = [
            ("i-1", ["All": false], false),
            ("i-2", ["All": false, "LeadRouter": true], true),
            ("i-3", ["All": false, "leadrouter": ["region": "eu"]], true),
            ("i-4", ["leadrouter": false], false),
            ("i-5", ["All": true, "Mixpanel": false], true),
            ("i-6", [:], true),
        ]
        for (id, integrations, _) in cases {
            let r = try client.request("POST", "/v1/track", headers: ["Content-Type": "application/json"],
                                       body: track(id, key: service.ingestKey, extra: ["integrations": integrations]))
            XCTAssertEqual(r.status, 200, "\(id): \(r.text)")
        }
        let batch: [String: Any] = ["writeKey": service.ingestKey, "batch": [
            ["type": "track", "event": "Product Viewed", "userId": "u", "messageId": "i-7", "integrations": ["All": false]],
            ["type": "track", "event": "Product Viewed", "userId": "u", "messageId": "i-8"]]]
        XCTAssertEqual(try client.request("POST", "/v1/batch", body: Array(try JSONSerialization.data(withJSONObject: batch))).status, 200)
        for (id, _, applied) in cases + [("i-7", [:], false), ("i-8", [:], true)] {
            XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id = '\(id)'"), applied ? 1 : 0, id)
        }
        XCTAssertEqual(service.app.ingest.counters.snapshot.notAddressed, 3)
    }

    func testSettingsDocumentNamesThisServiceAsTheSegmentDestination() throws {
        let service = try service()
        let client = try service.client()
        let r = try client.request("GET", "/v1/projects/\(service.ingestKey)/settings", headers: ["Origin": Self.shop])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.header("Access-Control-Allow-Origin"), Self.shop)
        let segment = try XCTUnwrap((r.json["integrations"] as? [String: Any])?["Segment.io"] as? [String: Any], r.text)
        XCTAssertEqual(segment["apiHost"] as? String, "127.0.0.1/v1")
        XCTAssertEqual(segment["protocol"] as? String, "http")
        XCTAssertEqual(segment["apiKey"] as? String, service.ingestKey)
        XCTAssertEqual((r.json["metrics"] as? [String: Any])?["sampleRate"] as? Double, 0)
        XCTAssertEqual(r.header("Vary"), "Origin, Host, X-Forwarded-Proto")
        XCTAssertEqual(r.header("Cache-Control"), "private, max-age=60")
        XCTAssertEqual((r.json["remotePlugins"] as? [Any])?.count, 0)
        let proxied = try client.request("GET", "/v1/projects/\(service.ingestKey)/settings", headers: ["X-Forwarded-Proto": "https"])
        XCTAssertEqual(((proxied.json["integrations"] as? [String: Any])?["Segment.io"] as? [String: Any])?["protocol"] as? String, "https")
        XCTAssertEqual(try client.request("GET", "/v1/projects/lr_unknown/settings").status, 401)
        XCTAssertEqual(try client.request("GET", "/v1/projects/\(service.readKey)/settings").status, 403)
    }

    func testMetricsAreCountedAndNotStored() throws {
        let service = try service()
        let client = try service.client()
        let body = #"{"series":[{"type":"Counter","metric":"analytics_js.invoke","value":1,"tags":{"method":"track"}},{"type":"Counter","metric":"analytics_js.invoke","value":2,"tags":{}}]}"#
        let r = try client.request("POST", "/v1/m", headers: ["Content-Type": "text/plain", "Origin": Self.shop], body: Array(body.utf8))
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.header("Access-Control-Allow-Origin"), Self.shop)
        XCTAssertEqual(service.app.ingest.counters.snapshot.browserMetricSeries, 2)
        XCTAssertEqual(try client.request("POST", "/v1/m", body: Array("nope".utf8)).status, 400)
        XCTAssertEqual(try client.request("POST", "/v1/m", headers: ["Origin": Self.elsewhere], body: Array(body.utf8)).status, 403)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0)
    }

    /// A page view whose sender did not fill `context.campaign` (lr.js, RudderStack JS's `{}`)
    /// still carries the landing URL's `utm_*` parameters: they become the campaign, and the
    /// ruleset's `sources` rule (medium cpc → paid_search) sets the lead's source.
    func testUTMParametersOfThePageBecomeTheCampaignWhenTheSenderLeftItOut() throws {
        let service = try service()
        let client = try service.client()
        let pages: [(String, [String: Any])] = [
            ("c-1", ["page": ["url": "https://shop.example.com/serum?utm_source=google&utm_medium=cpc&utm_campaign=winter%20sale", "path": "/serum"],
                     "campaign": [:] as [String: Any]]),
            ("c-2", ["page": ["search": "?utm_medium=email&utm_source=newsletter", "path": "/"], "campaign": ["medium": "affiliate"]]),
        ]
        for (id, context) in pages {
            let body: [String: Any] = ["type": "page", "anonymousId": "anon-\(id)", "messageId": id, "writeKey": service.ingestKey, "context": context]
            XCTAssertEqual(try client.request("POST", "/v1/p", body: Array(try JSONSerialization.data(withJSONObject: body))).status, 200)
        }
        XCTAssertEqual(try service.storedEvents(where: "message_id = 'c-1'").filter {
            (($0.message["context"] as? [String: Any])?["campaign"] as? [String: String]) == ["source": "google", "medium": "cpc", "name": "winter sale"]
        }.count, 1)
        let first = try client.json("GET", "/v1/leads?anonymous_id=anon-c-1", key: service.readKey).json
        XCTAssertEqual(((first["source"] as? [String: Any])?["first"] as? [String: Any])?["channel"] as? String, "paid_search", "\(first)")
        // The sender's own campaign wins over the URL.
        let second = try client.json("GET", "/v1/leads?anonymous_id=anon-c-2", key: service.readKey).json
        XCTAssertEqual(((second["source"] as? [String: Any])?["first"] as? [String: Any])?["channel"] as? String, "affiliate", "\(second)")
    }
}
