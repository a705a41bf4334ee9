import COpenSSL
import Foundation
import XCTest
@testable import HTTPServer

/// A blocking TLS client over OpenSSL that trusts exactly the test's self-signed certificate.
final class TLSTestClient {
    private let tcp: LoopbackClient
    private let ctx: OpaquePointer
    private let ssl: OpaquePointer

    init(port: Int, trusting certificatePath: String) throws {
        tcp = try LoopbackClient(port: port)
        ctx = SSL_CTX_new(TLS_client_method())!
        XCTAssertEqual(lr_SSL_CTX_configure_client(ctx), 1)
        XCTAssertEqual(SSL_CTX_load_verify_locations(ctx, certificatePath, nil), 1)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        ssl = SSL_new(ctx)!
        SSL_set_fd(ssl, tcp.fd)
        guard SSL_connect(ssl) == 1 else { throw TLSError("client handshake") }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(ctx)
    }

    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }
    var verified: Bool { SSL_get_verify_result(ssl) == X509_V_OK }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            XCTAssertGreaterThan(n, 0)
            if n <= 0 { return }
            offset += Int(n)
        }
    }

    /// Reads until `count` complete responses (Content-Length framing) arrived, or EOF.
    func read(responses count: Int) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while Self.completeResponses(in: data) < count {
            let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<Int(n)])
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func completeResponses(in data: [UInt8]) -> Int {
        var text = Substring(String(decoding: data, as: UTF8.self))
        var complete = 0
        while let end = text.range(of: "\r\n\r\n") {
            let head = text[..<end.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let rest = text[end.upperBound...]
            guard rest.utf8.count >= length else { break }
            text = rest.dropFirst(length)
            complete += 1
        }
        return complete
    }
}

final class TLSTests: XCTestCase {
    /// Makes a self-signed EC certificate for 127.0.0.1 with the `openssl` command.
    private func makeCertificate() throws -> (cert: String, key: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lr-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("openssl could not make a certificate") }
        return (cert, key)
    }

    func testHTTPSRequestsOverTLS() throws {
        let (cert, key) = try makeCertificate()
        let server = try startServer(self, router: testRouter()) {
            $0.tls = TLSConfiguration(certificatePath: cert, keyPath: key)
        }
        let client = try TLSTestClient(port: server.port!, trusting: cert)
        XCTAssertTrue(client.verified)
        XCTAssertTrue(["TLSv1.2", "TLSv1.3"].contains(client.protocolVersion))
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = client.read(responses: 2)
        XCTAssertEqual(text.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 2, text)
        XCTAssertTrue(text.hasSuffix("hello"))
    }

    /// A spooled body (`HTTPBodyFile`) goes through TLS chunk by chunk, then the next answer.
    func testSpooledBodyOverTLS() throws {
        let (cert, key) = try makeCertificate()
        let piece: @Sendable (Int) -> String = { i in String(repeating: String(UnicodeScalar(UInt8(97 + i % 26))), count: 1000) }
        var router = testRouter()
        router.add(.GET, "/spooled") { _ in
            HTTPResponse(status: .ok, bodyFile: try HTTPBodyFile { write in for i in 0..<300 { try write(Array(piece(i).utf8)) } })
        }
        let server = try startServer(self, router: router) {
            $0.tls = TLSConfiguration(certificatePath: cert, keyPath: key)
        }
        let client = try TLSTestClient(port: server.port!, trusting: cert)
        client.send("GET /spooled HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = client.read(responses: 2)
        XCTAssertTrue(text.contains("Content-Length: 300000"), String(text.prefix(300)))
        XCTAssertTrue(text.contains("\r\n\r\n" + (0..<300).map(piece).joined() + "HTTP/1.1 200 OK"), "the whole body, then the next answer")
        XCTAssertTrue(text.hasSuffix("hello"))
    }

    func testConnectionBeyondTheMaximumGets503OverTLS() throws {
        let (cert, key) = try makeCertificate()
        let server = try startServer(self, router: testRouter()) {
            $0.tls = TLSConfiguration(certificatePath: cert, keyPath: key)
            $0.maxConnections = 1
        }
        let first = try TLSTestClient(port: server.port!, trusting: cert)
        first.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(first.read(responses: 1).hasPrefix("HTTP/1.1 200 OK"))
        let second = try TLSTestClient(port: server.port!, trusting: cert)
        let refused = second.read(responses: 1)
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 503 Service Unavailable"), refused)
        XCTAssertTrue(refused.contains("Retry-After: 1"))
    }

    func testPlainHTTPToTheTLSPortIsDropped() throws {
        let (cert, key) = try makeCertificate()
        let server = try startServer(self, router: testRouter()) {
            $0.tls = TLSConfiguration(certificatePath: cert, keyPath: key)
        }
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertNil(client.readResponse())
    }

    func testMissingCertificateFailsStart() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.tls = TLSConfiguration(certificatePath: "/nonexistent/cert.pem", keyPath: "/nonexistent/key.pem")
        let server = HTTPServer(configuration: configuration, router: testRouter(), logger: .init(label: "t"))
        XCTAssertThrowsError(try server.start()) { error in
            XCTAssertTrue("\(error)".contains("loading the certificate"), "\(error)")
        }
    }
}
