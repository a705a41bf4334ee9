import XCTest
@testable import HTTPServer

/// A body spooled to a file (`HTTPBodyFile`) goes out in chunks, framed by Content-Length, in
/// order with the answers pipelined behind it; HEAD gets the length and no bytes.
final class SpooledBodyTests: XCTestCase {
    /// 3 MiB and a bit: many chunks, the last one short.
    static let size = 3 * 1024 * 1024 + 123

    func router() -> HTTPRouter {
        var router = testRouter()
        router.add(.GET, "/big") { _ in
            let file = try HTTPBodyFile { write in
                var remaining = Self.size, n = 0
                while remaining > 0 {
                    let piece = min(remaining, 10_000)
                    try write((0..<piece).map { i in UInt8((n + i) % 251) })
                    n += piece; remaining -= piece
                }
            }
            return HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], bodyFile: file)
        }
        return router
    }

    func testSpooledBodyArrivesWholeAndPipelinedAnswersFollowInOrder() throws {
        let server = try startServer(self, router: router())
        let client = try LoopbackClient(port: server.port!, timeout: 30)
        try client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nHEAD /big HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        let big = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(big.status, 200)
        XCTAssertEqual(big.headers["Content-Length"], "\(Self.size)")
        XCTAssertEqual(big.body.count, Self.size)
        XCTAssertTrue(big.body.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) }, "every byte in place")
        XCTAssertEqual(client.readResponse()?.bodyText, "hello")
        let head = try XCTUnwrap(client.readResponse(bodyless: true))
        XCTAssertEqual(head.headers["Content-Length"], "\(Self.size)")
        XCTAssertEqual(client.readResponse()?.body.count, Self.size)
    }
}
