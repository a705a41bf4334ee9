import Foundation
import XCTest
@testable import HTTPAPI

/// lr.js as served: small (under 5 KB gzipped, the issue's budget), self-contained, gzip when
/// accepted, cacheable (an ETag revalidates to a bodyless 304; the versioned URL is immutable),
/// and public. What it does in a browser is `BrowserTests`'.
final class TrackerScriptTests: XCTestCase {
    func testScriptIsSmallAndSelfContained() throws {
        let routes = TrackerScriptRoutes()
        let gzipped = try XCTUnwrap(routes.asset.gzipped)
        XCTAssertLessThan(gzipped.count, 5 * 1024, "lr.js is \(gzipped.count) bytes gzipped")
        XCTAssertEqual(try GzipInflater.inflate(gzipped, maxOutputBytes: 1 << 20), Array(TrackerScript.source.utf8))
        for forbidden in ["import ", "require(", "<script", "eval("] {
            XCTAssertFalse(TrackerScript.source.contains(forbidden), "lr.js loads nothing else: \(forbidden)")
        }
        XCTAssertTrue(TrackerScript.source.contains(#"VERSION = "\#(TrackerScript.version)""#), "the script reports its own version")
        for name in ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"] {
            XCTAssertTrue(TrackerScript.source.contains(#""\#(name)""#), name)
        }
    }

    func testAcceptEncoding() {
        for yes in ["gzip", "deflate, gzip;q=0.5", "GZIP", "br, *", "x-gzip"] { XCTAssertTrue(GzipDeflater.accepted(by: yes), yes) }
        for no in [nil, "", "identity", "gzip;q=0", "br", "gzip;q=0.0, br"] { XCTAssertFalse(GzipDeflater.accepted(by: no), no ?? "nil") }
    }

    func testServedGzippedCacheableAndPublic() throws {
        let service = try TestService(test: self)
        let client = try service.client()
        let plain = Array(TrackerScript.source.utf8)

        let zipped = try client.request("GET", "/v1/lr.js", headers: ["Accept-Encoding": "gzip, deflate, br"])
        XCTAssertEqual(zipped.status, 200, zipped.text)
        XCTAssertEqual(zipped.header("Content-Encoding"), "gzip")
        XCTAssertEqual(zipped.header("Content-Type"), "text/javascript; charset=utf-8")
        XCTAssertEqual(zipped.header("Cache-Control"), "public, max-age=300")
        XCTAssertEqual(zipped.header("Vary"), "Accept-Encoding")
        XCTAssertLessThan(zipped.body.count, 5 * 1024)
        XCTAssertEqual(try GzipInflater.inflate(zipped.body, maxOutputBytes: 1 << 20), plain)
        let etag = try XCTUnwrap(zipped.header("ETag"))
        XCTAssertTrue(etag.hasPrefix("\"lr-\(TrackerScript.version)-"), etag)

        let identity = try client.request("GET", "/v1/lr.js")
        XCTAssertEqual(identity.status, 200)
        XCTAssertNil(identity.header("Content-Encoding"))
        XCTAssertEqual(identity.body, plain)
        XCTAssertEqual(identity.header("ETag"), etag, "one ETag for both encodings of the same bytes")

        let revalidated = try client.request("GET", "/v1/lr.js", headers: ["If-None-Match": "\"other\", \(etag)", "Accept-Encoding": "gzip"])
        XCTAssertEqual(revalidated.status, 304)
        XCTAssertEqual(revalidated.body, [])
        XCTAssertEqual(revalidated.header("ETag"), etag)
        XCTAssertEqual(try client.request("GET", "/v1/lr.js", headers: ["If-None-Match": "\"stale\""]).status, 200)

        let pinned = try client.request("GET", "/v1/lr-\(TrackerScript.version).js", headers: ["Accept-Encoding": "gzip"])
        XCTAssertEqual(pinned.status, 200)
        XCTAssertEqual(pinned.header("Cache-Control"), "public, max-age=31536000, immutable")
        XCTAssertEqual(try GzipInflater.inflate(pinned.body, maxOutputBytes: 1 << 20), plain)
        XCTAssertEqual(try client.request("GET", "/v1/lr-0.0.0.js").status, 404, "only the current version is served")
    }
}
