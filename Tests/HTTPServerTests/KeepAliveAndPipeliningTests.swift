import XCTest
@testable import HTTPServer

final class KeepAliveAndPipeliningTests: XCTestCase {
    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        for i in 0..<3 {
            try client.send("GET /items/\(i)?q=a%20b HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try XCTUnwrap(client.readResponse())
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.json()?["id"] as? String, "\(i)")
            XCTAssertEqual(response.json()?["q"] as? String, "a b")
            XCTAssertNil(response.headers["Connection"])
            XCTAssertNotNil(response.headers["Date"])
            XCTAssertNotNil(response.headers["X-Request-Id"])
        }
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        var batch = ""
        for i in 0..<10 { batch += "GET /items/\(i) HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-\(i)\r\n\r\n" }
        batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
        batch += "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
        try client.send(batch)
        for i in 0..<10 {
            let response = try XCTUnwrap(client.readResponse())
            XCTAssertEqual(response.json()?["id"] as? String, "\(i)")
            XCTAssertEqual(response.headers["X-Request-Id"], "req-\(i)")
        }
        XCTAssertEqual(client.readResponse()?.bodyText, "abcde")
        XCTAssertEqual(client.readResponse()?.status, 404)
    }

    func testConnectionCloseAndHTTP10() throws {
        let server = try startServer(self, router: testRouter())
        let close = try LoopbackClient(port: server.port!)
        try close.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let response = try XCTUnwrap(close.readResponse())
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(close.waitForClose())

        let old = try LoopbackClient(port: server.port!)
        try old.send("GET /hello HTTP/1.0\r\n\r\n")
        XCTAssertEqual(old.readResponse()?.bodyText, "hello")
        XCTAssertTrue(old.waitForClose())

        let oldKeepAlive = try LoopbackClient(port: server.port!)
        try oldKeepAlive.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(oldKeepAlive.readResponse()?.headers["Connection"], "keep-alive")
        try oldKeepAlive.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(oldKeepAlive.readResponse()?.bodyText, "hello")
    }

    func testHeadGetsHeadersWithoutBody() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        try client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try XCTUnwrap(client.readResponse(bodyless: true))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Length"], "5")
        XCTAssertEqual(client.readResponse()?.bodyText, "hello")  // the HEAD sent no body bytes
    }

    func testExpectContinueGets100ThenTheAnswer() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 100)
        try client.send("xyz")
        XCTAssertEqual(client.readResponse()?.bodyText, "xyz")
    }

    func testRouterAnswers404And405WithAllow() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        let notFound = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(notFound.json()?["status"] as? Int, 404)
        try client.send("DELETE /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
        let notAllowed = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.headers["Allow"], "GET, HEAD")
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")  // the discarded body kept us in sync
        XCTAssertEqual(client.readResponse()?.bodyText, "hello")
    }

    func testHandlerErrorsBecomeProblemsAndTheServerLivesOn() throws {
        let server = try startServer(self, router: testRouter())
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /fail HTTP/1.1\r\nHost: x\r\nX-Request-Id: boom-1\r\n\r\n")
        let failed = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(failed.json()?["request_id"] as? String, "boom-1")
        try client.send("GET /teapot HTTP/1.1\r\nHost: x\r\n\r\n")
        let teapot = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(teapot.status, 418)
        XCTAssertEqual(teapot.json()?["detail"] as? String, "short and stout")
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.bodyText, "hello")
    }

    func testIPv6Loopback() throws {
        let server: HTTPServer
        do {
            server = try startServer(self, router: testRouter()) { $0.host = "::1" }
        } catch {
            throw XCTSkip("IPv6 loopback unavailable: \(error)")
        }
        let client = try LoopbackClient(port: server.port!, host: "::1")
        try client.send("GET /hello HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.bodyText, "hello")
    }
}

final class ConcurrencyTests: XCTestCase {
    /// Many clients at once across both loops and all workers: every answer is the right one.
    func testManyConcurrentKeepAliveClients() throws {
        let server = try startServer(self, router: testRouter())
        let port = server.port!
        let failures = NSLock()
        nonisolated(unsafe) var wrong: [String] = []
        DispatchQueue.concurrentPerform(iterations: 32) { client in
            do {
                let connection = try LoopbackClient(port: port)
                for i in 0..<25 {
                    try connection.send("GET /items/\(client)-\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
                    let id = connection.readResponse()?.json()?["id"] as? String
                    if id != "\(client)-\(i)" { failures.withLock { wrong.append("\(client)-\(i): \(id ?? "nil")") } }
                }
            } catch {
                failures.withLock { wrong.append("client \(client): \(error)") }
            }
        }
        XCTAssertEqual(wrong, [])
    }
}

final class LargeTransferTests: XCTestCase {
    /// An answer far bigger than the socket buffer: writes hit EAGAIN and finish on EPOLLOUT,
    /// and a big upload arrives over many reads; both intact, and the connection stays usable.
    func testBigAnswerAndBigUploadOnOneConnection() throws {
        var router = testRouter()
        let big = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        router.add(.GET, "/big") { _ in HTTPResponse(status: .ok, body: big) }
        router.add(.POST, "/upload", maxBodyBytes: 4 << 20) { request in
            .json(["bytes": request.body.count, "sum": request.body.reduce(0) { $0 &+ Int($1) }])
        }
        let server = try startServer(self, router: router)
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.2)  // let the server fill the socket and wait for EPOLLOUT
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.body.count, big.count)
        XCTAssertTrue(response.body == big)

        let upload = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0) }
        try client.send(Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(upload.count)\r\n\r\n".utf8) + upload)
        let answer = try XCTUnwrap(client.readResponse()?.json())
        XCTAssertEqual(answer["bytes"] as? Int, upload.count)
        XCTAssertEqual(answer["sum"] as? Int, upload.reduce(0) { $0 &+ Int($1) })
    }
}
