import Foundation
import XCTest

/// An answer as a test client reads it off the wire.
struct TestResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking keep-alive HTTP/1.1 client over a real loopback socket, with a receive timeout so
/// a missing answer fails the test instead of hanging it.
final class TestHTTPClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: errno \(errno)") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); throw TestClientError(description: "connect: errno \(errno)") }
    }

    deinit { close(fd) }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> TestResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PATCH" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + body)
        return try readResponse()
    }

    /// Sends `bytes` exactly as given (a whole request: head and body, any framing) and reads the answer.
    func raw(_ bytes: [UInt8]) throws -> TestResponse {
        try send(bytes)
        return try readResponse()
    }

    func json(_ method: String, _ path: String, key: String?, _ object: Any? = nil, headers: [String: String] = [:]) throws -> TestResponse {
        var all = headers
        if let key { all["Authorization"] = "Bearer \(key)" }
        var body: [UInt8] = []
        if let object {
            body = Array(try JSONSerialization.data(withJSONObject: object))
            all["Content-Type"] = "application/json"
        }
        return try request(method, path, headers: all, body: body)
    }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestClientError(description: "send: errno \(errno)") }
            offset += n
        }
    }

    private func readResponse() throws -> TestResponse {
        while true {
            if let response = takeResponse() { return response }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { throw TestClientError(description: "connection ended or timed out before an answer") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    private func takeResponse() -> TestResponse? {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { buffer[$0..<$0 + 4].elementsEqual(marker) })
        else { return nil }
        var lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard buffer.count >= end + 4 + length else { return nil }
        let body = Array(buffer[(end + 4)..<(end + 4 + length)])
        buffer.removeFirst(end + 4 + length)
        return TestResponse(status: status, headers: headers, body: body)
    }
}
