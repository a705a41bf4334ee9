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
}
