import Foundation
import HTTPServer
import XCTest
@testable import Essentials
@testable import LeadRouterService
@testable import OutboundHTTP

/// The outbound client against real loopback sockets: plain and TLS receivers, refusals,
/// redirects left alone, a receiver that never answers, certificates checked.
final class WebhookHTTPClientTests: XCTestCase {
    /// The receivers here listen on 127.0.0.1, which the client refuses by default.
    let loopbackAllowed = DestinationPolicy(allowPrivateNetworks: true)

    func testPostsTheBodyAndHeadersAndReturnsTheStatus() throws {
        let receiver = try WebhookReceiver { n in n == 0 ? .ok : .fail(503) }
        defer { receiver.stop() }
        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 2), destinations: loopbackAllowed)
        let body = Array(#"{"id":"evt_1"}"#.utf8)
        let first = try client.post(receiver.url + "?q=1", headers: [("X-Leadrouter-Event-Id", "evt_1")], body: body)
        XCTAssertEqual(first.status, 204)
        let second = try client.post(receiver.url, headers: [], body: body)
        XCTAssertEqual(second.status, 503)
        XCTAssertEqual(receiver.requests.map(\.eventId), ["evt_1", nil])
        XCTAssertEqual(receiver.requests.first?.body, body)
    }

    func testRefusedConnectionIsAConnectError() throws {
        let port = try RawServer.freePort()
        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 1), destinations: loopbackAllowed)
        XCTAssertThrowsError(try client.post("http://127.0.0.1:\(port)/", headers: [], body: [])) { error in
            let failure = error as? OutboundHTTPError
            XCTAssertEqual(failure?.code, .connect)
            XCTAssertEqual(failure?.errno, ECONNREFUSED)
        }
    }

    func testRedirectIsNotFollowedAndSilenceTimesOut() throws {
        let redirect = try RawServer(answer: "HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n")
        let client = try WebhookHTTPClient(timeouts: .init(connect: 1, response: 0.5), destinations: loopbackAllowed)
        let moved = try client.post("http://127.0.0.1:\(redirect.port)/", headers: [], body: [1, 2])
        XCTAssertEqual(moved.status, 301)
        XCTAssertEqual(moved.headers["location"], "http://127.0.0.1:1/elsewhere")
        XCTAssertEqual(redirect.connections, 1, "one request, no second one to the Location")

        let silent = try RawServer(answer: nil)
        let started = Date()
        XCTAssertThrowsError(try client.post("http://127.0.0.1:\(silent.port)/", headers: [], body: [])) { error in
            XCTAssertEqual((error as? OutboundHTTPError)?.code, .responseTimeout)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "gave up after the response timeout, not the receiver's pace")

        let closing = try RawServer(answer: "")
        XCTAssertThrowsError(try client.post("http://127.0.0.1:\(closing.port)/", headers: [], body: [])) { error in
            XCTAssertEqual((error as? OutboundHTTPError)?.code, .closedEarly)
        }
    }

    func testHTTPSReceiverWithAPrivateCAIsRefusedUntilTheCAIsConfigured() throws {
        let (cert, key) = try Self.makeCertificate(subjectAltName: "DNS:localhost,IP:127.0.0.1")
        let receiver = try WebhookReceiver(tls: TLSConfiguration(certificatePath: cert, keyPath: key))
        defer { receiver.stop() }
        let byName = "https://localhost:\(receiver.port)/hook"
        let byAddress = "https://127.0.0.1:\(receiver.port)/hook"

        let systemTrustOnly = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), destinations: loopbackAllowed)
        XCTAssertThrowsError(try systemTrustOnly.post(byName, headers: [], body: [])) { error in
            let failure = error as? OutboundHTTPError
            XCTAssertEqual(failure?.code, .tls)
            XCTAssertTrue(failure?.detail.contains("self-signed") == true, "\(error)")
        }
        XCTAssertEqual(receiver.requests.count, 0, "nothing was sent to an unverified receiver")

        let trusting = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), extraCAFile: cert, destinations: loopbackAllowed)
        XCTAssertEqual(try trusting.post(byName, headers: [("X-Leadrouter-Event-Id", "evt_9")], body: [1]).status, 204)
        XCTAssertEqual(try trusting.post(byAddress, headers: [], body: [2]).status, 204, "IP literal checked against the IP SAN")
        XCTAssertEqual(receiver.requests.map(\.body), [[1], [2]])
    }

    func testHTTPSCertificateForAnotherHostIsRefusedEvenWhenTrusted() throws {
        let (cert, key) = try Self.makeCertificate(subjectAltName: "DNS:other.example")
        let receiver = try WebhookReceiver(tls: TLSConfiguration(certificatePath: cert, keyPath: key))
        defer { receiver.stop() }
        let trusting = try WebhookHTTPClient(timeouts: .init(connect: 2, response: 2), extraCAFile: cert, destinations: loopbackAllowed)
        XCTAssertThrowsError(try trusting.post("https://localhost:\(receiver.port)/hook", headers: [], body: [])) { error in
            XCTAssertEqual((error as? OutboundHTTPError)?.code, .tls)
            XCTAssertTrue("\(error)".contains("mismatch"), "\(error)")
        }
        XCTAssertThrowsError(try WebhookHTTPClient(extraCAFile: "/nonexistent/ca.pem")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/ca.pem"), "\(error)")
        }
    }

    /// A self-signed EC certificate (its own CA) with the given subjectAltName, via `openssl`.
    static func makeCertificate(subjectAltName: String) throws -> (cert: String, key: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-wh-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let result = try ChildProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
            "-days", "1", "-subj", "/CN=leadrouter test receiver", "-addext", "subjectAltName=\(subjectAltName)",
            "-addext", "basicConstraints=critical,CA:TRUE"])
        guard result.status == 0 else { throw XCTSkip("openssl could not make a certificate: \(result.output)") }
        return (cert, key)
    }
}

/// A one-thread TCP listener that answers every connection with a fixed text after reading the
/// request (`nil`: never answers, holds the connection open; `""`: closes at once).
final class RawServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let count = Locked(0)
    var connections: Int { count.withLock { $0 } }

    init(answer: String?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw TestClientError(description: "raw server: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        self.fd = fd
        let count = self.count
        Thread.detachNewThread {
            var held: [Int32] = []
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { break }
                count.withLock { $0 += 1 }
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                guard let answer else { held.append(client); continue }
                let bytes = Array(answer.utf8)
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
            }
            held.forEach { close($0) }
        }
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    /// A port nothing listens on (bound, then released).
    static func freePort() throws -> Int {
        let server = try RawServer(answer: "")
        return server.port
    }
}
