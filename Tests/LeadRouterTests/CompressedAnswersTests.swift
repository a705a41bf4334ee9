import Foundation
import XCTest
@testable import LeadRouterService

/// Metric answers are gzip-compressed for clients that send `Accept-Encoding: gzip`
/// (`CompressResponses`, docs/insight.md#compressed-answers): real clients (curl and Python's
/// `urllib` + `gzip`) get a body that inflates to exactly the bytes of the plain answer, with
/// `Content-Encoding: gzip` and `Vary: Accept-Encoding`; a client that does not ask, or refuses
/// gzip with `q=0`, gets the plain bytes (still with `Vary`).
final class CompressedAnswersTests: XCTestCase {
    func testMetricAnswersInflateToThePlainBytes() throws {
        let t0 = Date(timeIntervalSince1970: 1_793_610_000)  // 2026-11-02T09:00:00Z
        let service = try TestService(test: self, start: t0, rulesYAML: StageMetricsTests.v1)
        let client = try service.client()
        for (hours, user, event) in [(0.0, "a", "Product Viewed"), (1, "a", "Product Viewed"), (2, "a", "Product Added"), (3, "b", "Product Viewed")] {
            service.clock.set(t0.addingTimeInterval(hours * 3600))
            XCTAssertEqual(try client.json("POST", "/v1/events", key: service.ingestKey, ["userId": user, "event": event]).status, 200)
        }
        let base = "http://127.0.0.1:\(service.port)"
        let paths = ["/v1/stages/metrics?from=2026-10-26T00:00:00Z&to=2026-11-09T00:00:00Z&interval=hour",
                     "/v1/segments/awareness.low-intent.viewer/metrics?from=2026-10-26T00:00:00Z&to=2026-11-09T00:00:00Z&interval=hour",
                     "/v1/drift", "/v1/inventory"]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (n, path) in paths.enumerated() {
            let plain = dir.appendingPathComponent("\(n).plain"), inflated = dir.appendingPathComponent("\(n).inflated")
            let raw = dir.appendingPathComponent("\(n).raw"), head = dir.appendingPathComponent("\(n).head"), plainHead = dir.appendingPathComponent("\(n).plainhead")
            let auth = "Authorization: Bearer \(service.readKey)"
            XCTAssertEqual(try runProcess("/usr/bin/env", ["curl", "-sf", "-H", auth, "-D", plainHead.path, "-o", plain.path, base + path]).status, 0, path)
            // --compressed: curl asks for gzip and inflates; the raw run keeps the wire bytes.
            XCTAssertEqual(try runProcess("/usr/bin/env", ["curl", "-sf", "--compressed", "-H", auth, "-o", inflated.path, base + path]).status, 0, path)
            XCTAssertEqual(try runProcess("/usr/bin/env", ["curl", "-sf", "-H", auth, "-H", "Accept-Encoding: gzip", "-D", head.path, "-o", raw.path, base + path]).status, 0, path)
            let plainBytes = try Data(contentsOf: plain), rawBytes = try Data(contentsOf: raw)
            XCTAssertEqual(try Data(contentsOf: inflated), plainBytes, "\(path): curl --compressed inflates to the plain answer")
            let headers = try String(contentsOf: head, encoding: .utf8).lowercased()
            XCTAssertTrue(headers.contains("vary: accept-encoding"), headers)
            XCTAssertTrue(headers.contains("content-length: \(rawBytes.count)"), headers)
            if n < 2 { XCTAssertGreaterThan(plainBytes.count, 20_000, "\(path): two weeks by hour") }
            if plainBytes.count >= 1400 {
                XCTAssertEqual(Array(rawBytes.prefix(2)), [0x1F, 0x8B], "\(path): the wire body is gzip")
                XCTAssertLessThan(rawBytes.count, plainBytes.count / 3, path)
                XCTAssertTrue(headers.contains("content-encoding: gzip"), headers)
            } else {
                XCTAssertEqual(rawBytes, plainBytes, "\(path): a small answer goes out as it is")
                XCTAssertFalse(headers.contains("content-encoding"), headers)
            }
            let plainHeaders = try String(contentsOf: plainHead, encoding: .utf8).lowercased()
            XCTAssertFalse(plainHeaders.contains("content-encoding"), plainHeaders)
            XCTAssertTrue(plainHeaders.contains("vary: accept-encoding"), plainHeaders)
        }
        // Python: the standard library's gzip inflates the wire bytes to the plain answer; q=0 refuses gzip.
        let script = """
            import gzip, sys, urllib.request
            base, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
            def get(encoding):
                req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + key, "Accept-Encoding": encoding})
                with urllib.request.urlopen(req) as r:
                    return r.headers.get("Content-Encoding"), r.headers.get("Vary"), r.read()
            enc, vary, body = get("gzip, deflate")
            plain_enc, _, plain = get("identity")
            refused_enc, _, refused = get("gzip;q=0, identity")
            assert enc == "gzip" and vary == "Accept-Encoding", (enc, vary)
            assert plain_enc is None and refused_enc is None, (plain_enc, refused_enc)
            assert gzip.decompress(body) == plain == refused, "inflated body differs"
            print("inflated", len(body), "->", len(plain))
            """
        let file = dir.appendingPathComponent("client.py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        let result = try runProcess("/usr/bin/env", ["python3", file.path, base, service.readKey, paths[0]])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("inflated"), result.output)
    }
}
