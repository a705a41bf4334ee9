import Foundation
import Logging
import XCTest
@testable import HTTPServer

/// A response as a test client reads it off the wire.
struct WireResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    func json() -> [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
}

/// A blocking TCP client on loopback with a receive timeout, so a test that waits for an answer
/// that never comes fails instead of hanging.
final class LoopbackClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1", timeout: Double = 5) throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc: Int32
        if v6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &addr.sin6_addr)
            rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &addr.sin_addr)
            rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        if rc != 0 { let e = SystemError("connect"); close(fd); throw e }
    }

    deinit { close(fd) }

    /// Closes both directions now (the fd itself is closed in deinit).
    func hangUp() { _ = shutdown(fd, Int32(SHUT_RDWR)) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw SystemError("send") }
            offset += n
        }
    }

    /// Reads more bytes; false on EOF, reset or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads one response (`bodyless` for answers to HEAD). Nil if the connection ended first.
    func readResponse(bodyless: Bool = false) -> WireResponse? {
        while true {
            if let response = takeResponse(bodyless: bodyless) { return response }
            if !fill() { return nil }
        }
    }

    private func takeResponse(bodyless: Bool) -> WireResponse? {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == marker })
        else { return nil }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = Int(statusLine[1]) ?? 0
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = (bodyless || status < 200 || status == 204) ? 0 : Int(headers["Content-Length"] ?? "0") ?? 0
        guard buffer.count >= end + 4 + length else { return nil }
        let body = Array(buffer[(end + 4)..<(end + 4 + length)])
        buffer.removeFirst(end + 4 + length)
        return WireResponse(status: status, headers: headers, body: body)
    }

    /// True when the server closed the connection (EOF or reset) within the timeout, after
    /// any buffered bytes.
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// Starts a server on an ephemeral loopback port; stops it when the test ends.
func startServer(_ test: XCTestCase, router: HTTPRouter, configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                 logger: Logger = Logger(label: "test.http")) throws -> HTTPServer {
    var configuration = HTTPServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.eventLoopCount = 2
    configuration.workerThreads = 4
    configuration.shutdownGracePeriod = 2
    configure(&configuration)
    var quiet = logger
    quiet.logLevel = .warning
    let server = HTTPServer(configuration: configuration, router: router, logger: quiet)
    try server.start()
    test.addTeardownBlock {
        server.shutdown()
        server.waitUntilStopped()
    }
    return server
}

/// A router with the routes most tests use.
func testRouter() -> HTTPRouter {
    var router = HTTPRouter()
    router.add(.GET, "/hello") { _ in HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: Array("hello".utf8)) }
    router.add(.GET, "/items/{id}") { request in
        .json(["id": request.pathParameters["id"] ?? "", "q": request.queryValue("q") ?? ""])
    }
    router.add(.POST, "/echo", maxBodyBytes: 1024) { request in
        HTTPResponse(status: .ok, body: request.body)
    }
    router.add(.GET, "/fail") { _ in throw NSError(domain: "test", code: 7) }
    router.add(.GET, "/teapot") { _ in throw HTTPError(HTTPStatus(418, "I'm a teapot"), detail: "short and stout") }
    return router
}
