import XCTest
@testable import HTTPServer

/// Content-Length, Transfer-Encoding and the smuggling rules (RFC 9112 §6).
final class BodyFramingTests: XCTestCase {
    private func post(_ fields: String, _ body: String = "") -> String {
        "POST /p HTTP/1.1\r\nHost: h\r\n\(fields)\r\n\(body)"
    }

    func testNoFramingMeansNoBody() {
        let o = parseEverySplit("POST /p HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertEqual(o.heads.map(\.method), [.POST, .GET])
        XCTAssertEqual(o.bodies, [[], []])
    }

    func testContentLength() throws {
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Content-Length: 5\r\n", "hello"))).body, "hello")
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Content-Length: 0\r\n"))).body, "")
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Content-Length: 005\r\n", "hello"))).body, "hello")
        let events = parseEverySplit(post("Content-Length: 0\r\n")).events.count
        XCTAssertEqual(events, 2, "head and end, no empty body event")
    }

    func testIdenticalContentLengthRepeatsAreAccepted() throws {
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Content-Length: 5, 5\r\n", "hello"))).body, "hello")
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Content-Length: 5\r\ncontent-length: 5\r\n", "hello"))).body, "hello")
    }

    func testDifferingOrMalformedContentLengthIsRejected() {
        XCTAssertEqual(assertRejected(post("Content-Length: 5, 6\r\n", "hello!"), 400), "differing Content-Length values")
        assertRejected(post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400)
        XCTAssertEqual(assertRejected(post("Content-Length: +5\r\n", "hello"), 400), "malformed Content-Length")
        assertRejected(post("Content-Length: -1\r\n"), 400)
        assertRejected(post("Content-Length: 5 5\r\n", "hello"), 400)
        assertRejected(post("Content-Length: 0x5\r\n", "hello"), 400)
        assertRejected(post("Content-Length: 5a\r\n", "hello"), 400)
        assertRejected(post("Content-Length: 1.0\r\n", "h"), 400)
        XCTAssertEqual(assertRejected(post("Content-Length:\r\n"), 400), "empty Content-Length")
        assertRejected(post("Content-Length: 5,\r\n", "hello"), 400)
        XCTAssertEqual(assertRejected(post("Content-Length: 99999999999999999999\r\n"), 400), "Content-Length overflows")
    }

    func testContentLengthWithTransferEncodingIsRejected() {
        let both = "both Content-Length and Transfer-Encoding"
        XCTAssertEqual(assertRejected(post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400), both)
        XCTAssertEqual(assertRejected(post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"), 400), both)
        XCTAssertEqual(assertRejected(post("Transfer-Encoding: gzip\r\nContent-Length: 3\r\n", "abc"), 400), both)
    }

    func testTransferEncodings() throws {
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Transfer-Encoding: Chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"))).body, "abc")
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Transfer-Encoding: chunked,\r\n", "0\r\n\r\n"))).body, "")
        XCTAssertEqual(assertRejected(post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 501), "transfer coding other than chunked")
        assertRejected(post("Transfer-Encoding: gzip\r\n"), 501)
        assertRejected(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 501)
        assertRejected(post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"), 501)
        XCTAssertEqual(assertRejected(post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400),
                       "chunked must be applied exactly once, last")
        assertRejected(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400)
        XCTAssertEqual(assertRejected(post("Transfer-Encoding:\r\n"), 400), "malformed Transfer-Encoding")
        assertRejected(post("Transfer-Encoding: chun ked\r\n"), 400)
        assertRejected(post("Transfer-Encoding: \"chunked\"\r\n"), 400)
        XCTAssertEqual(assertRejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                       "Transfer-Encoding in an HTTP/1.0 request")
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let body = "5;name\r\nhello\r\nA ; a = b ;c=\"q \\\" ;x\"\r\n0123456789\r\n000\r\nX-Trailer: t\r\nY: u\r\n\r\n"
        let r = try XCTUnwrap(parseOne(post("Transfer-Encoding: chunked\r\n", body)))
        XCTAssertEqual(r.body, "hello0123456789")
        XCTAssertEqual(r.head.headers.values("x-trailer"), [], "trailers are discarded")
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Transfer-Encoding: chunked\r\n", "1f\r\n" + String(repeating: "z", count: 31) + "\r\n0\r\n\r\n"))).body.count, 31)
        XCTAssertEqual(try XCTUnwrap(parseOne(post("Transfer-Encoding: chunked\r\n", "0000000000000000000001\r\nq\r\n0\r\n\r\n"))).body, "q")
    }

    func testInvalidChunkSizesAndExtensions() {
        let te = "Transfer-Encoding: chunked\r\n"
        XCTAssertEqual(assertRejected(post(te, "x\r\n"), 400), "malformed chunk size")
        assertRejected(post(te, "\r\n"), 400)
        assertRejected(post(te, "-1\r\n"), 400)
        assertRejected(post(te, "+1\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "0x1\r\nx\r\n0\r\n\r\n"), 400)
        XCTAssertEqual(assertRejected(post(te, "10000000000000000\r\n"), 400), "chunk size overflows")
        assertRejected(post(te, "fffffffffffffff0\r\n"), 400)
        XCTAssertEqual(assertRejected(post(te, "1 \r\nx\r\n0\r\n\r\n"), 400), "malformed chunk extension")
        assertRejected(post(te, "1;\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "1;=v\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "1;a=\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "1;a=\"open\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "1;a b\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "1;a\u{1}\r\nx\r\n0\r\n\r\n"), 400)
        assertRejected(post(te, "1\nx\r\n0\r\n\r\n"), 400)
    }

    func testChunkDataMustEndWithCRLF() {
        let te = "Transfer-Encoding: chunked\r\n"
        XCTAssertEqual(assertRejected(post(te, "3\r\nabcd\r\n0\r\n\r\n"), 400), "chunk data not followed by CRLF")
        assertRejected(post(te, "3\r\nabc\n0\r\n\r\n"), 400)
        assertRejected(post(te, "3\r\nabc\rX0\r\n\r\n"), 400)
    }

    func testTrailersAreValidatedAndBounded() {
        let te = "Transfer-Encoding: chunked\r\n"
        assertRejected(post(te, "0\r\nX: a\r\n folded\r\n\r\n"), 400)
        assertRejected(post(te, "0\r\nX : a\r\n\r\n"), 400)
        assertRejected(post(te, "0\r\nX: \u{0}\r\n\r\n"), 400)
        var limits = HTTPParserLimits()
        limits.maxHeaderFields = 2
        XCTAssertNil(parseEverySplit(post(te, "0\r\nA: 1\r\nB: 2\r\n\r\n"), limits: limits).error)
        XCTAssertEqual(assertRejected(post(te, "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431, limits: limits), "too many trailer fields")
        limits = HTTPParserLimits()
        limits.maxHeaderBytes = 40
        XCTAssertEqual(assertRejected(post(te, "0\r\nA: " + String(repeating: "v", count: 40) + "\r\n\r\n"), 431, limits: limits),
                       "trailer section too large")
    }

    func testChunkLineLimit() {
        var limits = HTTPParserLimits()
        limits.maxChunkLineBytes = 8
        XCTAssertNil(parseEverySplit(post("Transfer-Encoding: chunked\r\n", "1;abcdef\r\nx\r\n0\r\n\r\n"), limits: limits).error)
        XCTAssertEqual(assertRejected(post("Transfer-Encoding: chunked\r\n", "1;abcdefg\r\nx\r\n0\r\n\r\n"), 400, limits: limits),
                       "chunk size line too long")
    }
}
