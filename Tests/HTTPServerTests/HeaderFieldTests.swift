import XCTest
@testable import HTTPServer

/// Header fields: order, duplicates, syntax, Host, limits, Connection, Expect (RFC 9112 §5, §9).
final class HeaderFieldTests: XCTestCase {
    func testFieldsKeepOrderDuplicatesAndTrimOWS() throws {
        let r = try XCTUnwrap(parseOne("GET / HTTP/1.1\r\nHost: h\r\nX-A:  1 \t\r\nx-b:2\r\nX-a: 3\r\nEmpty:\r\nTab: a\tb\r\n\r\n"))
        let fields = r.head.headers.fields.map { "\($0.name)=\($0.value)" }
        XCTAssertEqual(fields, ["Host=h", "X-A=1", "x-b=2", "X-a=3", "Empty=", "Tab=a\tb"])
        XCTAssertEqual(r.head.headers["x-a"], "1")
        XCTAssertEqual(r.head.headers.values("X-A"), ["1", "3"])
        XCTAssertEqual(r.head.headers["X-B"], "2")
    }

    func testObsTextIsKeptAsUTF8() throws {
        let r = try XCTUnwrap(parseOne("GET / HTTP/1.1\r\nHost: h\r\nX-Name: Jos\u{e9}\r\n\r\n"))
        XCTAssertEqual(r.head.headers["x-name"], "Jos\u{e9}")
    }

    func testObsFoldIsRejected() {
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400), "obsolete line folding")
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400)
    }

    func testWhitespaceBeforeColonIsRejected() {
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400), "whitespace between field name and colon")
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 0\r\n\r\n", 400)
    }

    func testControlCharactersInValuesAreRejected() {
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n", 400), "control character in field value")
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7f}\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX: \u{1b}[31m\r\n\r\n", 400)
    }

    func testMalformedFieldNames() {
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", 400)
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400), "empty field name")
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX\u{e9}: v\r\n\r\n", 400)
    }

    func testHostRules() throws {
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400), "HTTP/1.1 request without Host")
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400), "more than one Host field")
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400)
        XCTAssertNotNil(parseOne("GET / HTTP/1.0\r\n\r\n"))
        assertRejected("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400)
        let empty = try XCTUnwrap(parseOne("GET / HTTP/1.1\r\nHost:\r\n\r\n"))
        XCTAssertEqual(empty.head.headers["host"], "")
        XCTAssertEqual(try XCTUnwrap(parseOne("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")).head.headers["Host"], "[::1]:8080")
        XCTAssertNotNil(parseOne("GET / HTTP/1.1\r\nHost: xn--bcher-kva.example:443\r\n\r\n"))
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400), "invalid Host")
        assertRejected("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.0\r\nHost: h\u{e9}\r\n\r\n", 400)
    }

    func testHeaderBlockByteLimitIs431() {
        var limits = HTTPParserLimits()
        limits.maxHeaderBytes = 30
        // "Host: h\r\n" (9) + "X: " + 14 bytes + "\r\n" (19) + final "\r\n" (2) = 30 bytes exactly.
        let fits = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 14) + "\r\n\r\n"
        XCTAssertNotNil(parseOne(fits, limits: limits))
        let over = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 15) + "\r\n\r\n"
        XCTAssertEqual(assertRejected(over, 431, limits: limits), "header block too large")
        // A single endless field is stopped without waiting for its end.
        let endless = parse(chunks: [Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 40)).utf8)], limits: limits)
        XCTAssertEqual(endless.error?.status.code, 431)
    }

    func testHeaderFieldCountLimitIs431() {
        var limits = HTTPParserLimits()
        limits.maxHeaderFields = 3
        XCTAssertNotNil(parseOne("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits: limits))
        XCTAssertEqual(assertRejected("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, limits: limits),
                       "too many header fields")
    }

    func testDefaultLimitsAllow100FieldsNot101() {
        let fields = (1...99).map { "X-\($0): v\r\n" }.joined()
        XCTAssertNil(parse(chunks: [Array("GET / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n".utf8)]).error)
        XCTAssertEqual(parse(chunks: [Array("GET / HTTP/1.1\r\nHost: h\r\n\(fields)Y: 1\r\n\r\n".utf8)]).error?.status.code, 431)
    }

    func testKeepAlive() throws {
        func keepAlive(_ version: String, _ connection: String?) throws -> Bool {
            let field = connection.map { "Connection: \($0)\r\n" } ?? ""
            return try XCTUnwrap(parseOne("GET / \(version)\r\nHost: h\r\n\(field)\r\n")).head.keepAlive
        }
        XCTAssertTrue(try keepAlive("HTTP/1.1", nil))
        XCTAssertFalse(try keepAlive("HTTP/1.1", "close"))
        XCTAssertFalse(try keepAlive("HTTP/1.1", "Keep-Alive, CLOSE"))
        XCTAssertTrue(try keepAlive("HTTP/1.1", "upgrade"))
        XCTAssertFalse(try keepAlive("HTTP/1.0", nil))
        XCTAssertTrue(try keepAlive("HTTP/1.0", "keep-alive"))
        XCTAssertTrue(try keepAlive("HTTP/1.0", "foo ,  Keep-Alive"))
        XCTAssertFalse(try keepAlive("HTTP/1.0", "keep-alive, close"))
        XCTAssertFalse(try keepAlive("HTTP/1.0", "keep-alive-ish"))
    }

    func testExpect() throws {
        XCTAssertTrue(try XCTUnwrap(parseOne("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")).head.expectsContinue)
        XCTAssertTrue(try XCTUnwrap(parseOne("PUT / HTTP/1.1\r\nHost: h\r\nexpect: 100-Continue\r\n\r\n")).head.expectsContinue)
        XCTAssertFalse(try XCTUnwrap(parseOne("PUT / HTTP/1.1\r\nHost: h\r\n\r\n")).head.expectsContinue)
        // HTTP/1.0 expectations are ignored (RFC 9110 §10.1.1).
        XCTAssertFalse(try XCTUnwrap(parseOne("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")).head.expectsContinue)
        XCTAssertNotNil(parseOne("PUT / HTTP/1.0\r\nExpect: teapot\r\n\r\n"))
        XCTAssertEqual(assertRejected("PUT / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n", 417), "unsupported expectation")
        assertRejected("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\n\r\n", 417)
    }
}
