import XCTest
@testable import HTTPServer

/// Every rejection class end to end: the status as problem+json, then the connection closes.
final class RejectionAndLimitTests: XCTestCase {
    private func expectRejection(_ request: String, status: Int, configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let server = try startServer(self, router: testRouter(), configure: configure)
        let client = try LoopbackClient(port: server.port!)
        try client.send(request)
        let response = try XCTUnwrap(client.readResponse(), "no answer", file: file, line: line)
        XCTAssertEqual(response.status, status, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", file: file, line: line)
        XCTAssertEqual(response.json()?["status"] as? Int, status, file: file, line: line)
        XCTAssertEqual(response.headers["Connection"], "close", file: file, line: line)
        XCTAssertTrue(client.waitForClose(), "connection stayed open", file: file, line: line)
    }

    func testSmugglingShapesGet400AndClose() throws {
        try expectRejection("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
        try expectRejection("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400)
        try expectRejection("GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", status: 400)
        try expectRejection("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", status: 400)
        try expectRejection("GET /hello HTTP/1.1\r\n\r\n", status: 400)  // no Host
        try expectRejection("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", status: 400)
    }

    func testUnsupportedCodingIs501AndVersionIs505() throws {
        try expectRejection("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501)
        try expectRejection("GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", status: 505)
    }

    func testLongTargetIs414AndBigHeadersAre431() throws {
        let longPath = "/" + String(repeating: "a", count: 300)
        try expectRejection("GET \(longPath) HTTP/1.1\r\nHost: x\r\n\r\n", status: 414) { $0.parserLimits.maxRequestLineBytes = 256 }
        let many = (0..<20).map { "X-F\($0): v\r\n" }.joined()
        try expectRejection("GET /hello HTTP/1.1\r\nHost: x\r\n\(many)\r\n", status: 431) { $0.parserLimits.maxHeaderFields = 10 }
        let big = "X-Big: " + String(repeating: "b", count: 2000) + "\r\n"
        try expectRejection("GET /hello HTTP/1.1\r\nHost: x\r\n\(big)\r\n", status: 431) { $0.parserLimits.maxHeaderBytes = 1024 }
    }

    /// 413 is decided from Content-Length alone: the client has not sent a body byte yet.
    func testTooLargeBodyIsRefusedBeforeItIsSent() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(client.waitForClose())

        let expecting = try LoopbackClient(port: server.port!)
        try expecting.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(expecting.readResponse()?.status, 413)  // no 100 first
    }

    func testChunkedBodyOverTheRouteLimitIs413() throws {
        let chunk = String(repeating: "z", count: 800)
        let hex = String(800, radix: 16)
        try expectRejection("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(hex)\r\n\(chunk)\r\n\(hex)\r\n\(chunk)\r\n0\r\n\r\n", status: 413)
    }

    func testSlowHeadersGet408() throws {
        let server = try startServer(self, router: testRouter()) { $0.headerReadTimeout = 0.3 }
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /hello HTTP/1.1\r\nHo")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.status, 408)
        XCTAssertTrue(client.waitForClose())
    }

    func testSilentConnectionIsClosedAfterTheHeaderTimeout() throws {
        let server = try startServer(self, router: testRouter()) { $0.headerReadTimeout = 0.3 }
        let client = try LoopbackClient(port: server.port!)
        let started = Date()
        XCTAssertTrue(client.waitForClose())
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.25)
    }

    func testIdleKeepAliveConnectionClosesSilently() throws {
        let server = try startServer(self, router: testRouter()) { $0.idleTimeout = 0.3 }
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertNil(client.readResponse())  // EOF, no 408
    }
}
