import Foundation
import LeadRouterService
import LeadStore
import XCTest

/// The exact requests of the tracking SDKs that cannot run here (browsers, mobile, other
/// runtimes), written from their public sources into `Tests/Fixtures/sdk-wire/*.json` (each
/// fixture cites the repository, file and commit it was read from). Each is replayed over a real
/// socket byte for byte as the SDK frames it (gzip, chunked, text/plain, Basic auth or the body's
/// `writeKey`, a CORS preflight first where a browser would send one), answered as the SDK expects,
/// and applied exactly once: replayed a second time (an SDK retry), nothing is applied again.
final class SDKWireFixtureTests: XCTestCase {
    static let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/sdk-wire")
    static let shop = "https://shop.example.com"

    func testAnalyticsJS() throws { try replay("analytics-js") }
    func testAnalyticsJSBatching() throws { try replay("analytics-js-batching") }
    func testAnalyticsNode() throws { try replay("analytics-node") }
    func testAnalyticsRuby() throws { try replay("analytics-ruby") }
    func testAnalyticsJava() throws { try replay("analytics-java") }
    func testAnalyticsGo() throws { try replay("analytics-go") }
    func testAnalyticsSwift() throws { try replay("analytics-swift") }
    func testAnalyticsKotlin() throws { try replay("analytics-kotlin") }
    func testRudderStackJS() throws { try replay("rudderstack-js") }

    func testEveryFixtureHasATestAndCitesItsSource() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(names, ["analytics-go.json", "analytics-java.json", "analytics-js-batching.json", "analytics-js.json", "analytics-kotlin.json", "analytics-node.json",
                               "analytics-ruby.json", "analytics-swift.json", "rudderstack-js.json"])
        for name in names {
            let fixture = try load(String(name.dropLast(5)))
            let sources = try XCTUnwrap(fixture["sources"] as? [[String: Any]], name)
            XCTAssertFalse(sources.isEmpty, name)
            for source in sources { XCTAssertNotNil(source["repository"] as? String, name); XCTAssertNotNil(source["path"] as? String, name) }
        }
    }

    func load(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name + ".json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], name)
    }

    func replay(_ name: String) throws {
        let fixture = try load(name)
        let service = try TestService(test: self) { $0.corsAllowedOrigins = try! AllowedOrigins.parse(Self.shop) }
        let request = try XCTUnwrap(fixture["request"] as? [String: Any])
        let expect = try XCTUnwrap(fixture["expect"] as? [String: Any])
        let applied = try XCTUnwrap(fixture["applied"] as? [String: Any])
        let ids = try XCTUnwrap(applied["messageIds"] as? [String])
        let body = try XCTUnwrap(request["body"] as? [String: Any])
        let anonymousId = (body["anonymousId"] as? String) ?? ""
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{{WRITE_KEY}}", with: service.ingestKey)
                .replacingOccurrences(of: "{{BASIC}}", with: Data((service.ingestKey + ":").utf8).base64EncodedString())
                .replacingOccurrences(of: "{{ANON_B64}}", with: Data(anonymousId.utf8).base64EncodedString())
        }
        var headers: [(String, String)] = (request["headers"] as? [String: String] ?? [:]).map { ($0.key, fill($0.value)) }.sorted { $0.0 < $1.0 }
        var bytes = Array(fill(String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]),
                                      as: UTF8.self)).utf8)
        if request["gzip"] as? Bool == true { bytes = try gzip(bytes) }
        let method = try XCTUnwrap(request["method"] as? String), path = try XCTUnwrap(request["path"] as? String)

        for attempt in 1...2 {
            let client = try service.client()
            if let preflight = fixture["preflight"] as? [String: Any], let asked = preflight["headers"] as? [String: String] {
                let answer = try client.request("OPTIONS", path, headers: asked)
                XCTAssertEqual(answer.status, 204, "\(name) preflight: \(answer.text)")
                XCTAssertEqual(answer.header("Access-Control-Allow-Origin"), asked["Origin"], name)
                XCTAssertEqual(answer.header("Access-Control-Allow-Headers"), asked["Access-Control-Request-Headers"], name)
                XCTAssertNil(answer.header("Access-Control-Allow-Credentials"), name)
            }
            let response: TestResponse
            if request["chunked"] as? Bool == true {
                headers.append(("Transfer-Encoding", "chunked"))
                var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(service.port)\r\n"
                for (field, value) in headers { head += "\(field): \(value)\r\n" }
                let half = bytes.count / 2
                var raw = Array((head + "\r\n").utf8)
                for chunk in [bytes[..<half], bytes[half...]] {
                    raw += Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + Array("\r\n".utf8)
                }
                raw += Array("0\r\n\r\n".utf8)
                response = try client.raw(raw)
                headers.removeLast()
            } else {
                response = try client.request(method, path, headers: Dictionary(uniqueKeysWithValues: headers), body: bytes)
            }
            XCTAssertEqual(response.status, expect["status"] as? Int, "\(name) attempt \(attempt): \(response.text)")
            XCTAssertEqual(response.json["success"] as? Bool, true, "\(name): \(response.text)")
            if let origin = expect["cors_origin"] as? String {
                XCTAssertEqual(response.header("Access-Control-Allow-Origin"), origin, name)
                XCTAssertNil(response.header("Access-Control-Allow-Credentials"), name)
            }
            for id in ids {
                XCTAssertEqual(try service.count("SELECT count(*) FROM processed_messages WHERE message_id = '\(id)'"), 1, "\(name) \(id) attempt \(attempt)")
                XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE message_id = '\(id)'"), 1, "\(name) \(id) attempt \(attempt)")
            }
            XCTAssertEqual(try service.count("SELECT count(*) FROM events"), ids.count, name)
        }
        if let occurred = applied["occurred_at"] as? String {
            XCTAssertEqual(try service.count("SELECT count(*) FROM events WHERE message_id = '\(ids[0])' AND occurred_at = '\(occurred)'"), 1,
                           "\(name): \(applied["why"] ?? "")")
        }
    }
}
