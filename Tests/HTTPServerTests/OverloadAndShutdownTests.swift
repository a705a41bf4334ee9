import Foundation
import Logging
import XCTest
@testable import HTTPServer

/// A latch a blocking handler waits on, so tests control when work finishes.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var open = false
    private(set) var entered = 0

    func wait() {
        condition.lock()
        entered += 1
        condition.broadcast()
        while !open { condition.wait() }
        condition.unlock()
    }

    func release() {
        condition.lock()
        open = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `count` handlers are blocked in `wait()`.
    func waitForEntered(_ count: Int, timeout: Double = 5) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while entered < count { if !condition.wait(until: deadline) { return false } }
        return true
    }
}

final class OverloadAndShutdownTests: XCTestCase {
    private func blockingRouter(_ gate: Gate) -> HTTPRouter {
        var router = testRouter()
        router.add(.GET, "/block") { _ in
            gate.wait()
            return HTTPResponse(status: .ok, body: Array("done".utf8))
        }
        return router
    }

    func testFullPoolAndQueueGive503WithRetryAfter() throws {
        let gate = Gate()
        let server = try startServer(self, router: blockingRouter(gate)) {
            $0.workerThreads = 1
            $0.workerQueueDepth = 1
        }
        // Two pipelined requests in one write are parsed in one turn and submitted together:
        // once the first is running, the second is certainly in the (one-deep) queue.
        let busy = try LoopbackClient(port: server.port!)
        try busy.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\nGET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(gate.waitForEntered(1))
        let refused = try LoopbackClient(port: server.port!)
        try refused.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try XCTUnwrap(refused.readResponse())
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.headers["Retry-After"], "1")
        XCTAssertEqual(response.json()?["status"] as? Int, 503)
        gate.release()
        XCTAssertEqual(busy.readResponse()?.bodyText, "done")
        XCTAssertEqual(busy.readResponse()?.bodyText, "done")
        try refused.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")  // the 503 kept the connection
        XCTAssertEqual(refused.readResponse()?.bodyText, "hello")
    }

    func testConnectionsBeyondTheMaximumGet503AndClose() throws {
        let server = try startServer(self, router: testRouter()) { $0.maxConnections = 2 }
        let first = try LoopbackClient(port: server.port!)
        let second = try LoopbackClient(port: server.port!)
        try first.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        try second.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(first.readResponse()?.status, 200)
        XCTAssertEqual(second.readResponse()?.status, 200)
        let third = try LoopbackClient(port: server.port!)
        try third.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try XCTUnwrap(third.readResponse())
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(third.waitForClose())
        // Once one closes, a new connection is admitted again.
        try first.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(first.readResponse()?.status, 200)
        XCTAssertTrue(first.waitForClose())
        first.hangUp()  // ends the server's lingering close
        Thread.sleep(forTimeInterval: 0.1)
        let fourth = try LoopbackClient(port: server.port!)
        try fourth.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(fourth.readResponse()?.status, 200)
    }

    func testGracefulShutdownFinishesTheRequestInFlight() throws {
        let gate = Gate()
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = 5
        var logger = Logger(label: "test.shutdown")
        logger.logLevel = .warning
        let server = HTTPServer(configuration: configuration, router: blockingRouter(gate), logger: logger)
        try server.start()
        let port = server.port!
        let busy = try LoopbackClient(port: port)
        try busy.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        let idle = try LoopbackClient(port: port)
        try idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(idle.readResponse()?.status, 200)
        XCTAssertTrue(gate.waitForEntered(1))

        server.shutdown()
        XCTAssertTrue(idle.waitForClose(), "idle keep-alive connection is closed at once")
        XCTAssertThrowsError(try LoopbackClient(port: port), "listener is closed")
        gate.release()
        let response = try XCTUnwrap(busy.readResponse())
        XCTAssertEqual(response.bodyText, "done")
        XCTAssertEqual(response.headers["Connection"], "close")
        server.waitUntilStopped()
    }

    func testShutdownCutsRequestsThatOutliveTheGracePeriod() throws {
        let gate = Gate()
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = 0.3
        var logger = Logger(label: "test.shutdown")
        logger.logLevel = .critical
        let server = HTTPServer(configuration: configuration, router: blockingRouter(gate), logger: logger)
        try server.start()
        let busy = try LoopbackClient(port: server.port!)
        try busy.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(gate.waitForEntered(1))
        let started = Date()
        server.shutdown()
        XCTAssertNil(busy.readResponse())
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        gate.release()
        server.waitUntilStopped()
    }
}
