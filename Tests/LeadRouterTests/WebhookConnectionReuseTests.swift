import Foundation
import HTTPServer
import XCTest
@testable import Essentials
@testable import OutboundHTTP

/// Keep-alive and TLS session resumption in the webhook client, against real loopback sockets:
/// a receiver's connection carries the next delivery, a new TLS connection resumes the session
/// the receiver issued, and connections the receiver closed are never written to twice.
final class WebhookConnectionReuseTests: XCTestCase {
    let loopbackAllowed = DestinationPolicy(allowPrivateNetworks: true)

    func testTheSecondDeliveryToAReceiverReusesTheConnection() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let client = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), destinations: loopbackAllowed)
        let first = try client.post(receiver.url, headers: [], body: [1])
        let second = try client.post(receiver.url, headers: [], body: [2])
        let third = try client.post(receiver.url + "/other", headers: [], body: [3])
        XCTAssertEqual([first.status, second.status, third.status], [204, 204, 204])
        XCTAssertEqual([first.reusedConnection, second.reusedConnection, third.reusedConnection], [false, true, true],
                       "one connection per receiver (scheme, host, port), whatever the path")
        XCTAssertEqual(receiver.requests.map(\.body), [[1], [2], [3]])
        XCTAssertEqual(client.connections.idleCount, 1)
    }

    func testConcurrentWorkersShareTheKeptConnections() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let client = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 5), destinations: loopbackAllowed)
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for n in 0..<40 where (try? client.post(receiver.url, headers: [], body: [UInt8(worker), UInt8(n)]).status) != 204 {
                failures.withLock { $0 += 1 }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertEqual(receiver.requests.count, 320)
        XCTAssertLessThanOrEqual(client.connections.idleCount, 8, "at most one connection per concurrent worker")
    }

    func testReuseOffSendsConnectionCloseAndOpensANewConnectionEachTime() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let client = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), destinations: loopbackAllowed,
                                           reuse: ConnectionReuse(maxIdlePerReceiver: 0))
        XCTAssertFalse(try client.post(receiver.url, headers: [], body: [1]).reusedConnection)
        XCTAssertFalse(try client.post(receiver.url, headers: [], body: [2]).reusedConnection)
        XCTAssertEqual(client.connections.idleCount, 0)
    }

    func testANewTLSConnectionResumesTheReceiversSession() throws {
        let (cert, key) = try WebhookHTTPClientTests.makeCertificate(subjectAltName: "DNS:localhost,IP:127.0.0.1")
        let receiver = try WebhookReceiver(tls: TLSConfiguration(certificatePath: cert, keyPath: key))
        defer { receiver.stop() }
        let url = "https://localhost:\(receiver.port)/hook"
        // Reuse off: every delivery makes a new connection, so each one after the first handshakes again.
        let fresh = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), extraCAFile: cert, destinations: loopbackAllowed,
                                          reuse: ConnectionReuse(maxIdlePerReceiver: 0))
        let first = try fresh.post(url, headers: [], body: [1])
        XCTAssertEqual(fresh.resumableSessions, 1, "the receiver's session was kept")
        let second = try fresh.post(url, headers: [], body: [2])
        XCTAssertEqual([first.status, second.status], [204, 204])
        XCTAssertFalse(first.resumedTLSSession, "nothing to resume on the first handshake")
        XCTAssertTrue(second.resumedTLSSession, "the second handshake resumed the session of the first (SSL_session_reused)")

        // Reuse on: the second delivery does not handshake at all.
        let kept = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), extraCAFile: cert, destinations: loopbackAllowed)
        XCTAssertFalse(try kept.post(url, headers: [], body: [3]).reusedConnection)
        let again = try kept.post(url, headers: [], body: [4])
        XCTAssertTrue(again.reusedConnection)
        XCTAssertEqual(receiver.requests.map(\.body), [[1], [2], [3], [4]])
    }

    func testAReceiverThatClosesAfterEachAnswerGetsEveryDeliveryOnANewConnection() throws {
        // Answers with a keep-alive-able 204 and then closes: the kept connection is found closed.
        let closing = try RawServer(answer: "HTTP/1.1 204 No Content\r\n\r\n")
        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 2), destinations: loopbackAllowed)
        for body in [[UInt8(1)], [2], [3]] {
            XCTAssertEqual(try client.post("http://127.0.0.1:\(closing.port)/", headers: [], body: body).status, 204)
            Thread.sleep(forTimeInterval: 0.05)  // the receiver's close arrives
        }
        XCTAssertEqual(closing.connections, 3)

        let saysClose = try RawServer(answer: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        let other = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 2), destinations: loopbackAllowed)
        XCTAssertEqual(try other.post("http://127.0.0.1:\(saysClose.port)/", headers: [], body: []).status, 200)
        XCTAssertEqual(other.connections.idleCount, 0, "Connection: close is honoured")
    }

    func testResponseFraming() {
        XCTAssertEqual(ResponseFraming.of(status: 204, headers: [:], http10: false), .empty)
        XCTAssertEqual(ResponseFraming.of(status: 200, headers: ["content-length": "0"], http10: false), .empty)
        XCTAssertEqual(ResponseFraming.of(status: 200, headers: ["content-length": "12"], http10: false), .length(12))
        XCTAssertEqual(ResponseFraming.of(status: 200, headers: ["transfer-encoding": "chunked"], http10: false), .chunked)
        XCTAssertEqual(ResponseFraming.of(status: 200, headers: [:], http10: false), .close, "body until the connection closes")
        XCTAssertEqual(ResponseFraming.of(status: 200, headers: ["content-length": "x"], http10: false), .close)
        XCTAssertEqual(ResponseFraming.of(status: 204, headers: ["connection": "keep-alive, close"], http10: false), .close)
        XCTAssertEqual(ResponseFraming.of(status: 204, headers: [:], http10: true), .close)
    }

    func testChunkedBodySkipperFindsTheEndByteByByteAndAtOnce() {
        let body = Array("5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n".utf8)
        var whole = ChunkedBodySkipper()
        XCTAssertEqual(whole.feed(body + [72]), .done(extra: 1))
        var pieces = ChunkedBodySkipper()
        for byte in body.dropLast() { XCTAssertEqual(pieces.feed([byte]), .needMore) }
        XCTAssertEqual(pieces.feed([body.last!]), .done(extra: 0))
        var bad = ChunkedBodySkipper()
        XCTAssertEqual(bad.feed(Array("zz\r\n".utf8)), .invalid)
        var missingCRLF = ChunkedBodySkipper()
        XCTAssertEqual(missingCRLF.feed(Array("1\r\nab".utf8)), .invalid)
    }
}
