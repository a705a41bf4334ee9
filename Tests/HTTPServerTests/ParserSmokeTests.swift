import XCTest
@testable import HTTPServer

final class ParserSmokeTests: XCTestCase {
    func testSimpleGet() throws {
        let r = try XCTUnwrap(parseOne("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(r.head.method, .GET)
        XCTAssertEqual(r.head.path, "/a/b")
        XCTAssertEqual(r.head.rawQuery, "x=1")
        XCTAssertEqual(r.body, "")
    }

    func testContentLengthBody() throws {
        let r = try XCTUnwrap(parseOne("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"))
        XCTAssertEqual(r.body, "hello")
    }

    func testChunkedBody() throws {
        let r = try XCTUnwrap(parseOne("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n"))
        XCTAssertEqual(r.body, "hello!")
    }
}
