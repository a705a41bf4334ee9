import XCTest
@testable import HTTPServer

/// The connection protocol without sockets: bytes in, actions out.
final class ConnectionStateMachineTests: XCTestCase {
    typealias Action = ConnectionStateMachine.Action

    private var settings = ConnectionStateMachine.Settings()

    private func machine(now: Nanoseconds = 0) -> ConnectionStateMachine {
        ConnectionStateMachine(settings: settings, router: testRouter(), remoteAddress: "test",
                               requestIDs: RequestIDGenerator(), now: now)
    }

    private func feed(_ m: inout ConnectionStateMachine, _ text: String, now: Nanoseconds = 1) -> [Action] {
        var actions: [Action] = []
        Array(text.utf8).withUnsafeBytes { m.received($0, now: now, into: &actions) }
        return actions
    }

    private func written(_ actions: [Action]) -> String {
        actions.compactMap { if case .write(let b) = $0 { return String(decoding: b, as: UTF8.self) } else { return nil } }.joined()
    }

    private func dispatches(_ actions: [Action]) -> [(slot: UInt64, request: HTTPRequest, handler: HTTPHandler)] {
        actions.compactMap { if case .dispatch(let s, let r, let h) = $0 { return (s, r, h) } else { return nil } }
    }

    private func closes(_ actions: [Action]) -> [Bool] {
        actions.compactMap { if case .close(let linger) = $0 { return linger } else { return nil } }
    }

    func testARequestIsDispatchedAndItsAnswerWritten() throws {
        var m = machine()
        let actions = feed(&m, "GET /items/7?q=x HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc\r\n\r\n")
        let d = try XCTUnwrap(dispatches(actions).first)
        XCTAssertEqual(d.request.pathParameters["id"], "7")
        XCTAssertEqual(d.request.queryValue("q"), "x")
        XCTAssertEqual(d.request.requestID, "abc")
        XCTAssertEqual(written(actions), "")
        var out: [Action] = []
        m.complete(slot: d.slot, response: try d.handler(d.request), now: 5, into: &out)
        let text = written(out)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
        XCTAssertTrue(text.contains("X-Request-Id: abc\r\n"))
        XCTAssertTrue(text.contains("Content-Length: "))
        XCTAssertFalse(text.contains("Connection: close"))
        let log = out.compactMap { if case .log(let r) = $0 { return r } else { return nil } }
        XCTAssertEqual(log, [.init(method: "GET", path: "/items/7", status: 200, requestID: "abc", durationNanoseconds: 4)])
        XCTAssertTrue(closes(out).isEmpty)
        XCTAssertTrue(m.wantsRead)
    }

    func testPipelinedAnswersLeaveInRequestOrderEvenWhenCompletedOutOfOrder() throws {
        var m = machine()
        let actions = feed(&m, "GET /items/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: h\r\n\r\n")
        let d = dispatches(actions)
        XCTAssertEqual(d.count, 2)
        var out: [Action] = []
        m.complete(slot: d[1].slot, response: try d[1].handler(d[1].request), now: 2, into: &out)
        XCTAssertEqual(written(out), "", "the second answer waits for the first")
        m.complete(slot: d[0].slot, response: try d[0].handler(d[0].request), now: 3, into: &out)
        let text = written(out)
        let first = try XCTUnwrap(text.range(of: #""id":"1""#)), second = try XCTUnwrap(text.range(of: #""id":"2""#))
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
    }

    func testPipeliningDepthPausesReading() {
        settings.maxPipelinedRequests = 2
        var m = machine()
        let actions = feed(&m, String(repeating: "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", count: 3))
        XCTAssertEqual(dispatches(actions).count, 2)
        XCTAssertFalse(m.wantsRead)
    }

    func testConnectionCloseRequestEndsAfterItsAnswer() throws {
        var m = machine()
        let d = try XCTUnwrap(dispatches(feed(&m, "GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")).first)
        XCTAssertFalse(m.wantsRead)
        var out: [Action] = []
        m.complete(slot: d.slot, response: try d.handler(d.request), now: 2, into: &out)
        XCTAssertTrue(written(out).contains("Connection: close\r\n"))
        XCTAssertEqual(closes(out), [true])
        XCTAssertTrue(m.isClosed)
    }

    func testParseErrorAnswersItsStatusAndCloses() {
        var m = machine()
        let actions = feed(&m, "GET /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        let text = written(actions)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), text)
        XCTAssertTrue(text.contains("application/problem+json"))
        XCTAssertEqual(closes(actions), [true])
    }

    func testOversizedContentLengthIs413WithoutReadingTheBody() {
        var m = machine()
        let actions = feed(&m, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n")
        let text = written(actions)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"), text)
        XCTAssertFalse(text.contains("100 Continue"))
        XCTAssertTrue(dispatches(actions).isEmpty)
        XCTAssertEqual(closes(actions), [true])
    }

    func testExpectContinueSends100OnlyAfterEarlierAnswers() throws {
        var m = machine()
        let actions = feed(&m, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(written(actions), "", "100 may not overtake the first answer")
        let d = try XCTUnwrap(dispatches(actions).first)
        var out: [Action] = []
        m.complete(slot: d.slot, response: try d.handler(d.request), now: 2, into: &out)
        let text = written(out)
        XCTAssertTrue(text.hasSuffix("hello" + "HTTP/1.1 100 Continue\r\n\r\n"), text)
        let body = feed(&m, "ok", now: 3)
        XCTAssertEqual(dispatches(body).first?.request.body, Array("ok".utf8))
    }

    func testPeerEOFAnswersWhatIsInFlightThenCloses() throws {
        var m = machine()
        let d = try XCTUnwrap(dispatches(feed(&m, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")).first)
        var out: [Action] = []
        m.peerClosed(now: 2, into: &out)
        XCTAssertTrue(out.isEmpty)
        m.complete(slot: d.slot, response: try d.handler(d.request), now: 3, into: &out)
        let text = written(out)
        XCTAssertTrue(text.contains("Connection: close\r\n"), text)
        XCTAssertFalse(text.contains("100 Continue"), "no 100 for a body that cannot come")
        XCTAssertEqual(closes(out).count, 1)

        var idle = machine()
        out = []
        idle.peerClosed(now: 1, into: &out)
        XCTAssertEqual(closes(out), [false])
    }

    func testPoolRejectionIs503WithRetryAfterAndKeepsTheConnection() throws {
        var m = machine()
        let d = try XCTUnwrap(dispatches(feed(&m, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")).first)
        var out: [Action] = []
        m.dispatchRejected(slot: d.slot, now: 2, into: &out)
        let text = written(out)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), text)
        XCTAssertTrue(text.contains("Retry-After: 1\r\n"))
        XCTAssertTrue(closes(out).isEmpty)
    }

    func testTimers() {
        settings.headerReadTimeout = 100
        settings.idleTimeout = 1000
        var silent = machine(now: 0)
        var out: [Action] = []
        silent.tick(now: 99, outputPending: false, into: &out)
        XCTAssertTrue(out.isEmpty)
        silent.tick(now: 100, outputPending: false, into: &out)
        XCTAssertEqual(closes(out), [false], "a connection that never spoke closes silently")

        var slow = machine(now: 0)
        _ = feed(&slow, "GET /hel", now: 10)
        out = []
        slow.tick(now: 99, outputPending: false, into: &out)
        XCTAssertTrue(out.isEmpty)
        slow.tick(now: 100, outputPending: false, into: &out)  // counted from the accept
        XCTAssertTrue(written(out).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        XCTAssertEqual(closes(out), [true])

        var stalledBody = machine(now: 0)
        XCTAssertTrue(dispatches(feed(&stalledBody, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab", now: 10)).isEmpty)
        out = []
        stalledBody.tick(now: 1009, outputPending: false, into: &out)
        XCTAssertTrue(out.isEmpty, "the header timer stops once the head is in")
        stalledBody.tick(now: 1010, outputPending: false, into: &out)
        XCTAssertTrue(written(out).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "a body that stalls for idleTimeout")
        XCTAssertEqual(closes(out), [true])

        var unread = machine(now: 0)
        _ = feed(&unread, "GET /hel", now: 10)
        out = []
        unread.tick(now: 1009, outputPending: true, into: &out)
        XCTAssertTrue(out.isEmpty)
        unread.tick(now: 1010, outputPending: true, into: &out)
        XCTAssertEqual(closes(out), [false], "a client that stops reading our output is dropped")

        var idle = machine(now: 0)
        let d = dispatches(feed(&idle, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", now: 10))[0]
        out = []
        idle.tick(now: 5000, outputPending: false, into: &out)
        XCTAssertTrue(out.isEmpty, "no timer runs while a handler works")
        idle.complete(slot: d.slot, response: HTTPResponse(status: .ok), now: 5000, into: &out)
        out = []
        idle.tick(now: 5999, outputPending: false, into: &out)
        XCTAssertTrue(out.isEmpty)
        idle.tick(now: 6000, outputPending: false, into: &out)
        XCTAssertEqual(written(out), "", "idle keep-alive closes without an answer")
        XCTAssertEqual(closes(out), [false])
    }

    func testDrainClosesIdleAndFinishesBusyWithConnectionClose() throws {
        var idle = machine()
        var out: [Action] = []
        idle.beginDrain(now: 1, into: &out)
        XCTAssertEqual(closes(out), [false])

        var busy = machine()
        let d = try XCTUnwrap(dispatches(feed(&busy, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")).first)
        out = []
        busy.beginDrain(now: 2, into: &out)
        XCTAssertTrue(out.isEmpty)
        busy.complete(slot: d.slot, response: try d.handler(d.request), now: 3, into: &out)
        XCTAssertTrue(written(out).contains("Connection: close\r\n"))
        XCTAssertEqual(closes(out).count, 1)
    }

    func testRejectedConnectionGets503AndCloses() {
        var m = machine()
        var out: [Action] = []
        m.reject(status: .serviceUnavailable, detail: "full", retryAfter: 1, now: 0, into: &out)
        XCTAssertTrue(written(out).hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        XCTAssertTrue(written(out).contains("Retry-After: 1\r\n"))
        XCTAssertEqual(closes(out), [true])
    }

    func testBoundedQueueRefusesWhenFull() {
        var queue = BoundedQueue<Int>(capacity: 2)
        XCTAssertTrue(queue.push(1))
        XCTAssertTrue(queue.push(2))
        XCTAssertFalse(queue.push(3))
        XCTAssertEqual(queue.pop(), 1)
        XCTAssertTrue(queue.push(4))
        XCTAssertEqual([queue.pop(), queue.pop(), queue.pop()], [2, 4, nil])
    }

    func testRequestIDsEchoSaneValuesOnly() {
        let ids = RequestIDGenerator()
        XCTAssertEqual(ids.id(echoing: "abc-123"), "abc-123")
        XCTAssertNotEqual(ids.id(echoing: "has space"), "has space")
        XCTAssertNotEqual(ids.id(echoing: String(repeating: "a", count: 129)).count, 129)
        XCTAssertNotEqual(ids.next(), ids.next())
    }
}
