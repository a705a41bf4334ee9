import Foundation
import XCTest
@testable import LeadRouter

/// Write keys are public: everything a sender controls, over real sockets against a real
/// PostgreSQL. Bad input is a 4xx problem document that changes nothing, and no request ends
/// the process (each test checks the server still answers afterwards).
final class HostileInputTests: XCTestCase {
    private func post(_ client: TestHTTPClient, _ path: String, key: String, raw: String,
                      headers: [String: String] = [:]) throws -> TestResponse {
        var all = headers
        all["Authorization"] = "Bearer \(key)"
        all["Content-Type"] = "application/json"
        return try client.request("POST", path, headers: all, body: Array(raw.utf8))
    }

    private func pointers(_ r: TestResponse) -> [String] {
        (r.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
    }

    private func assertAlive(_ service: TestService, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try service.client().json("POST", "/v1/track", key: service.ingestKey, ["userId": "alive", "event": "Ping"])
        XCTAssertEqual(r.status, 200, "the server still ingests: \(r.text)", file: file, line: line)
    }

    // MARK: 1. Signature timestamps

    func testSignatureTimestampsThatWouldOverflowAre401AndTheServerLives() throws {
        let service = try TestService(test: self)
        let signed = try service.app.createKey(name: "signed", scopes: [.ingest], signingSecret: "s3cret")
        let client = try service.client()
        let body = #"{"userId":"u-sig","event":"Pricing Requested"}"#
        let mac = String(repeating: "0", count: 64)
        for t in ["-9223372036854775808", "9223372036854775807", "-1", "+1700000000", "1234567890123", "", "0x10", "1e3", "12 34"] {
            let r = try post(client, "/v1/events", key: signed, raw: body, headers: ["X-Leadrouter-Signature": "t=\(t),v1=\(mac)"])
            XCTAssertEqual(r.status, 401, "t=\(t): \(r.text)")
            XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        }
        // Twelve digits parse; far from now, it is outside the tolerance (still 401, no trap).
        var r = try post(client, "/v1/events", key: signed, raw: body, headers: ["X-Leadrouter-Signature": "t=999999999999,v1=\(mac)"])
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue((r.json["detail"] as? String)?.contains("away from the server clock") == true, r.text)
        let good = SignatureScheme.sign(body: Array(body.utf8), secret: Array("s3cret".utf8), timestamp: Int(Date().timeIntervalSince1970))
        r = try post(client, "/v1/events", key: signed, raw: body, headers: ["X-Leadrouter-Signature": good])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 1)
        try assertAlive(service)
    }

    // MARK: 4. A signing key signs every ingest route

    func testASigningKeyNeedsTheSignatureOnEveryIngestRoute() throws {
        let service = try TestService(test: self)
        let signed = try service.app.createKey(name: "signed", scopes: [.ingest], signingSecret: "s3cret")
        let client = try service.client()
        let bodies: [(String, String)] = [
            ("/v1/track", #"{"userId":"u-1","event":"Product Viewed"}"#),
            ("/v1/identify", #"{"userId":"u-1","traits":{"name":"A"}}"#),
            ("/v1/page", #"{"userId":"u-1","name":"Home"}"#),
            ("/v1/screen", #"{"userId":"u-1","name":"Home"}"#),
            ("/v1/group", #"{"userId":"u-1","groupId":"acct"}"#),
            ("/v1/alias", #"{"userId":"u-1","previousId":"a-1"}"#),
            ("/v1/batch", #"{"batch":[{"type":"track","userId":"u-1","event":"Product Viewed"}]}"#),
            ("/v1/events", #"{"userId":"u-1","event":"Product Viewed"}"#),
        ]
        for (path, body) in bodies {
            var r = try post(client, path, key: signed, raw: body)
            XCTAssertEqual(r.status, 401, "\(path) unsigned: \(r.text)")
            // Segment SDKs put the key in Basic auth or the body: no way around the signature either.
            let basic = "Basic " + Data("\(signed):".utf8).base64EncodedString()
            r = try client.request("POST", path, headers: ["Authorization": basic], body: Array(body.utf8))
            XCTAssertEqual(r.status, 401, "\(path) unsigned with Basic: \(r.text)")
            let wrong = SignatureScheme.sign(body: Array(body.utf8), secret: Array("nope".utf8), timestamp: Int(Date().timeIntervalSince1970))
            r = try post(client, path, key: signed, raw: body, headers: ["X-Leadrouter-Signature": wrong])
            XCTAssertEqual(r.status, 401, "\(path) signed with another secret: \(r.text)")
        }
        XCTAssertEqual(try service.count("SELECT count(*) FROM events"), 0, "nothing unsigned was applied")
        XCTAssertEqual(try service.count("SELECT count(*) FROM leads"), 0)
        for (path, body) in bodies {
            let header = SignatureScheme.sign(body: Array(body.utf8), secret: Array("s3cret".utf8), timestamp: Int(Date().timeIntervalSince1970))
            let r = try post(client, path, key: signed, raw: body, headers: ["X-Leadrouter-Signature": header])
            XCTAssertEqual(r.status, 200, "\(path) signed: \(r.text)")
        }
        // A key without a secret is unaffected.
        XCTAssertEqual(try post(client, "/v1/track", key: service.ingestKey, raw: bodies[0].1).status, 200)
    }

    // MARK: 6. The write scope

    func testChangingALeadNeedsTheWriteScope() throws {
        let service = try TestService(test: self)
        let writer = try service.app.createKey(name: "crm", scopes: [.read, .write])
        let client = try service.client()
        var r = try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": "u-w", "event": "Pricing Requested"])
        let lead = try XCTUnwrap(r.json["lead_id"] as? String, r.text)
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: service.readKey, ["status": "converted"])
        XCTAssertEqual(r.status, 403, r.text)
        XCTAssertTrue((r.json["detail"] as? String)?.contains("'write'") == true, r.text)
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: service.ingestKey, ["status": "converted"])
        XCTAssertEqual(r.status, 403)
        r = try client.json("GET", "/v1/leads/\(lead)", key: service.readKey)
        XCTAssertEqual(r.json["status"] as? String, "qualified", "a refused PATCH changes nothing")
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: writer, ["status": "contacted"])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["status"] as? String, "contacted")
        r = try client.json("PATCH", "/v1/leads/\(lead)", key: service.adminKey, ["status": "converted"])
        XCTAssertEqual(r.status, 200, "admin implies write: \(r.text)")
        let writeOnly = try service.app.createKey(name: "writer", scopes: [.write])
        r = try client.json("GET", "/v1/leads/\(lead)", key: writeOnly)
        XCTAssertEqual(r.status, 403, "write does not imply read")
    }
}
