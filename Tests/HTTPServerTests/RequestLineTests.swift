import XCTest
@testable import HTTPServer

/// Request line: methods, target forms, versions, limits, empty lines (RFC 9112 §2–3).
final class RequestLineTests: XCTestCase {
    func testOriginFormWithAndWithoutQuery() throws {
        let a = try XCTUnwrap(parseOne("GET /v1/leads/42?email=a%40b.c&x HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(a.head.method, .GET)
        XCTAssertEqual(a.head.target, "/v1/leads/42?email=a%40b.c&x")
        XCTAssertEqual(a.head.path, "/v1/leads/42")
        XCTAssertEqual(a.head.rawQuery, "email=a%40b.c&x")
        XCTAssertEqual(a.head.version, .http11)
        let b = try XCTUnwrap(parseOne("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(b.head.path, "/")
        XCTAssertNil(b.head.rawQuery)
        let c = try XCTUnwrap(parseOne("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(c.head.path, "/p")
        XCTAssertEqual(c.head.rawQuery, "")
    }

    func testAbsoluteFormTakesPathAndQueryFromTarget() throws {
        let a = try XCTUnwrap(parseOne("GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n"))
        XCTAssertEqual(a.head.target, "http://example.com:8080/a/b?c=d")
        XCTAssertEqual(a.head.path, "/a/b")
        XCTAssertEqual(a.head.rawQuery, "c=d")
        let b = try XCTUnwrap(parseOne("GET HTTPS://example.com HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(b.head.path, "/")
        XCTAssertNil(b.head.rawQuery)
        let c = try XCTUnwrap(parseOne("GET http://example.com?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(c.head.path, "/")
        XCTAssertEqual(c.head.rawQuery, "x=1")
    }

    func testMalformedAbsoluteFormIsRejected() {
        assertRejected("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET http://user@h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET http:/h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testAsteriskFormOnlyForOptions() throws {
        let a = try XCTUnwrap(parseOne("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(a.head.method, .OPTIONS)
        XCTAssertEqual(a.head.path, "*")
        XCTAssertNil(a.head.rawQuery)
        assertRejected("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testAuthorityFormIsConnectOnlyAndConnectIsNotImplemented() {
        XCTAssertEqual(assertRejected("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501),
                       "CONNECT is not supported")
        assertRejected("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testMethodIsACaseSensitiveToken() throws {
        let a = try XCTUnwrap(parseOne("PURGE /cache HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(a.head.method.rawValue, "PURGE")
        let b = try XCTUnwrap(parseOne("get / HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(b.head.method.rawValue, "get")
        XCTAssertNotEqual(b.head.method, .GET)
        assertRejected("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testSeparatorsMustBeSingleSpaces() {
        XCTAssertEqual(assertRejected("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400), "malformed request target")
        assertRejected("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400)
        assertRejected("GET /\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / \r\nHost: h\r\n\r\n", 400)
        assertRejected("GET\r\n\r\n", 400)
    }

    func testTargetBytes() {
        assertRejected("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET /caf\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET /a\u{7f} HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testVersions() throws {
        XCTAssertEqual(try XCTUnwrap(parseOne("GET / HTTP/1.0\r\n\r\n")).head.version, .http10)
        XCTAssertEqual(assertRejected("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505), "HTTP/2.0 is not supported")
        assertRejected("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505)
        assertRejected("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505)
        assertRejected("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505)
        XCTAssertEqual(assertRejected("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400), "malformed HTTP version")
        assertRejected("GET / http/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTP/1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTP/a.b\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testRequestLineLimitIs414() {
        var limits = HTTPParserLimits()
        limits.maxRequestLineBytes = 30
        let fits = "GET /" + String(repeating: "a", count: 16) + " HTTP/1.1"  // exactly 30 bytes
        XCTAssertEqual(fits.utf8.count, 30)
        XCTAssertNotNil(parseOne(fits + "\r\nHost: h\r\n\r\n", limits: limits))
        let over = "GET /" + String(repeating: "a", count: 17) + " HTTP/1.1"
        XCTAssertEqual(assertRejected(over + "\r\nHost: h\r\n\r\n", 414, limits: limits), "request line too long")
        // Known as soon as the limit is passed, before any CRLF arrives.
        let partial = parse(chunks: [Array(("GET /" + String(repeating: "a", count: 40)).utf8)], limits: limits)
        XCTAssertEqual(partial.error?.status.code, 414)
        let notYet = parse(chunks: [Array(("GET /" + String(repeating: "a", count: 26)).utf8)], limits: limits)
        XCTAssertNil(notYet.error)
        XCTAssertTrue(notYet.partial)
    }

    func testUnboundedLimitsDoNotOverflow() throws {
        var limits = HTTPParserLimits()
        limits.maxRequestLineBytes = .max
        limits.maxHeaderBytes = .max
        limits.maxBodyBytes = .max
        limits.maxChunkLineBytes = .max
        let r = try XCTUnwrap(parseOne("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                                       limits: limits))
        XCTAssertEqual(r.body, "ok")
    }

    func testLeadingEmptyLinesAreSkippedButBounded() throws {
        let a = try XCTUnwrap(parseOne("\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(a.head.path, "/x")
        var limits = HTTPParserLimits()
        limits.maxLeadingEmptyLineBytes = 4
        assertRejected("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, limits: limits)
        assertRejected("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    func testLineEndingsMustBeCRLF() {
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\nHost: h\r\n\r\n", 400), "line ends in a bare LF")
        assertRejected("GET / HTTP/1.1\r\nHost: h\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\n\n", 400)
        assertRejected("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400)
    }
}
