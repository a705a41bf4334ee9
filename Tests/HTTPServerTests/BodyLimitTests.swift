import XCTest
@testable import HTTPServer

/// Body limits (413 decided from the head), pipelining and the parser's timer-facing state.
final class BodyLimitTests: XCTestCase {
    func testContentLengthOverTheLimitFailsBeforeAnyBodyByte() throws {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = 4
        let o = parseEverySplit("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", limits: limits)
        XCTAssertEqual(o.error?.status.code, 413)
        XCTAssertEqual(o.error?.reason, "body of 5 bytes exceeds the limit of 4")
        XCTAssertEqual(o.events.count, 1, "only the head: no body byte was consumed")
        // The 413 is known from the head alone, without any body bytes arriving.
        let headOnly = parse(chunks: [Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000\r\n\r\n".utf8)])
        XCTAssertEqual(headOnly.error?.status.code, 413)
        XCTAssertEqual(try XCTUnwrap(parseOne("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nhell", limits: limits)).body, "hell")
    }

    func testExpectContinueWithAnOversizedBodyIsRefusedFromTheHead() throws {
        var p = HTTPRequestParser()
        p.append(Array("PUT /big HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n".utf8))
        guard case .head(let head)? = try p.next() else { return XCTFail("head expected") }
        XCTAssertTrue(head.expectsContinue)
        p.setBodyLimit(99)
        XCTAssertThrowsError(try p.next()) {
            XCTAssertEqual($0 as? HTTPParseError, HTTPParseError(.contentTooLarge, "body of 100 bytes exceeds the limit of 99"))
        }
    }

    func testRouteLimitOverridesTheDefaultBothWays() throws {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = 2
        let r = try XCTUnwrap(parseOne("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", limits: limits, bodyLimit: 10))
        XCTAssertEqual(r.body, "hello")
        assertRejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 413, bodyLimit: 4)
        // The override lasts for one request: the next one gets the default again.
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc".utf8))
        guard case .head? = try parser.next() else { return XCTFail("head expected") }
        parser.setBodyLimit(3)
        XCTAssertEqual(try parser.next(), .body(Array("abc".utf8)))
        XCTAssertEqual(try parser.next(), .end)
        guard case .head? = try parser.next() else { return XCTFail("second head expected") }
        XCTAssertThrowsError(try parser.next()) { XCTAssertEqual(($0 as? HTTPParseError)?.status.code, 413) }
    }

    func testChunkedBodyFailsWhenTheRunningTotalExceedsTheLimit() {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
        let o = parseEverySplit(text, bodyLimit: 5)
        XCTAssertEqual(o.error?.status.code, 413)
        XCTAssertEqual(o.events.count, 2)
        XCTAssertEqual(o.events.last, .body(Array("abc".utf8)))
        XCTAssertNil(parseEverySplit(text, bodyLimit: 6).error)
    }

    func testPipelinedRequestsComeOutInOrder() {
        let text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
            + "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
            + "HEAD /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
            + "GET /partial HTTP/1.1\r\nHo"
        let o = parseEverySplit(text)
        XCTAssertNil(o.error)
        XCTAssertEqual(o.heads.map(\.path), ["/a", "/b", "/c", "/d"])
        XCTAssertEqual(o.bodies.map { String(decoding: $0, as: UTF8.self) }, ["", "xyz", "hi", ""])
        XCTAssertEqual(o.heads.map(\.keepAlive), [true, true, true, false])
        XCTAssertEqual(o.heads[3].method, .HEAD)
        XCTAssertTrue(o.partial)
        XCTAssertEqual(o.events.count, 4 * 2 + 2)
    }

    func testPartialAndInHeadState() throws {
        var p = HTTPRequestParser()
        XCTAssertFalse(p.hasPartialMessage)
        XCTAssertFalse(p.isInHead)
        p.append(Array("\r\n".utf8))
        XCTAssertNil(try p.next())
        XCTAssertFalse(p.hasPartialMessage, "skipped empty lines are not a message")
        p.append(Array("PO".utf8))
        XCTAssertNil(try p.next())
        XCTAssertTrue(p.hasPartialMessage)
        XCTAssertTrue(p.isInHead)
        p.append(Array("ST / HTTP/1.1\r\nHost: h\r\n".utf8))
        XCTAssertNil(try p.next())
        XCTAssertTrue(p.isInHead)
        XCTAssertEqual(p.bufferedByteCount, 0)
        p.append(Array("Content-Length: 2\r\n\r\n".utf8))
        guard case .head? = try p.next() else { return XCTFail("head expected") }
        XCTAssertFalse(p.isInHead)
        XCTAssertTrue(p.hasPartialMessage)
        XCTAssertNil(try p.next())
        XCTAssertTrue(p.hasPartialMessage, "the body is still due")
        p.append(Array("ok".utf8))
        XCTAssertEqual(try p.next(), .body(Array("ok".utf8)))
        XCTAssertEqual(try p.next(), .end)
        XCTAssertFalse(p.hasPartialMessage)
        XCTAssertFalse(p.isInHead)
        XCTAssertNil(try p.next())
    }

    func testErrorsAreSticky() {
        var p = HTTPRequestParser()
        p.append(Array("GET / HTTP/9.9\r\n\r\n".utf8))
        XCTAssertThrowsError(try p.next()) { XCTAssertEqual(($0 as? HTTPParseError)?.status.code, 505) }
        p.append(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        XCTAssertThrowsError(try p.next()) { XCTAssertEqual(($0 as? HTTPParseError)?.status.code, 505) }
        XCTAssertFalse(p.hasPartialMessage)
    }

    func testLargeStreamedBodyKeepsTheBufferSmall() throws {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = 1 << 22
        var p = HTTPRequestParser(limits: limits)
        p.append(Array("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3000000\r\n\r\n".utf8))
        guard case .head? = try p.next() else { return XCTFail("head expected") }
        var received = 0, ends = 0
        let piece = [UInt8](repeating: 7, count: 30_000)
        for _ in 0..<100 {
            p.append(piece)
            while let event = try p.next() {
                if case .body(let b) = event { received += b.count }
                if case .end = event { ends += 1 }
            }
            XCTAssertEqual(p.bufferedByteCount, 0)
        }
        XCTAssertEqual(received, 3_000_000)
        XCTAssertEqual(ends, 1)
        XCTAssertFalse(p.hasPartialMessage)
    }
}
