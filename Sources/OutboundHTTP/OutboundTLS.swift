import Cryptography
private import COpenSSL
import Foundation

/// Owner of the client `SSL_CTX` for webhook HTTPS (freed in `deinit`): peer verification on,
/// the system's trust store, plus an optional extra CA file (a private CA of a receiver).
/// Created once per delivery service and shared by its worker threads (`SSL_new` on a shared
/// context is thread-safe).
final class OutboundTLSContext: @unchecked Sendable {
    fileprivate let handle: OpaquePointer

    /// Fails with OpenSSL's reason when the context or the CA file cannot be set up.
    init(extraCAFile: String?) throws {
        // SSL_write on a connection the receiver closed would raise SIGPIPE (plain sockets use
        // MSG_NOSIGNAL instead); a server process has no use for the signal.
        signal(SIGPIPE, SIG_IGN)
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw Self.error("creating the TLS client context") }
        handle = ctx
        guard lr_SSL_CTX_configure_client(ctx) == 1 else { throw Self.error("setting TLS 1.2 as minimum") }
        guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw Self.error("loading the system trust store") }
        if let extraCAFile, !extraCAFile.isEmpty {
            guard SSL_CTX_load_verify_locations(ctx, extraCAFile, nil) == 1 else {
                throw Self.error("loading the CA file \(extraCAFile)")
            }
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
    }

    deinit { SSL_CTX_free(handle) }

    static func error(_ operation: String) -> OutboundHTTPError {
        OutboundHTTPError(.tls, "\(operation): \(OpenSSLErrors.drain())")
    }
}

/// One client TLS session over an `OutboundSocket` (owns its `SSL`, freed in `deinit`). The
/// certificate must chain to a trusted CA and name the host (DNS name, or IP address for an IP
/// literal); otherwise the handshake fails and nothing is sent.
final class OutboundTLSSession {
    private let ssl: OpaquePointer
    private let socket: OutboundSocket

    init(context: OutboundTLSContext, socket: OutboundSocket, host: String, deadline: Deadline) throws {
        guard let ssl = SSL_new(context.handle) else { throw OutboundTLSContext.error("SSL_new") }
        self.ssl = ssl
        self.socket = socket
        guard SSL_set_fd(ssl, socket.fd) == 1 else { throw OutboundTLSContext.error("SSL_set_fd") }
        if Self.isIPLiteral(host) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw OutboundTLSContext.error("setting the expected IP address \(host)")
            }
        } else {
            guard lr_SSL_set_tlsext_host_name(ssl, host) == 1 else { throw OutboundTLSContext.error("setting SNI \(host)") }
            guard SSL_set1_host(ssl, host) == 1 else { throw OutboundTLSContext.error("setting the expected host \(host)") }
        }
        try retry(deadline: deadline, timeout: .connectTimeout, "TLS handshake with \(host)") { SSL_connect(ssl) }
    }

    deinit { SSL_free(ssl) }

    func writeAll(_ bytes: [UInt8], deadline: Deadline) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try retry(deadline: deadline, timeout: .responseTimeout, "sending the request") {
                bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32(bytes.count - offset)) }
            }
            offset += Int(n)
        }
    }

    /// Reads what is available; empty at end of stream.
    func read(max: Int, deadline: Deadline) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        do {
            let n = try retry(deadline: deadline, timeout: .responseTimeout, "reading the response") {
                buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32(max)) }
            }
            return Array(buffer.prefix(Int(n)))
        } catch let error as OutboundHTTPError where error.code == .closedEarly {
            return []
        }
    }

    /// Runs an SSL call until it makes progress, polling on WANT_READ/WANT_WRITE.
    @discardableResult
    private func retry(deadline: Deadline, timeout: OutboundHTTPError.Code, _ what: String, _ call: () -> Int32) throws -> Int32 {
        while true {
            ERR_clear_error()
            let rc = call()
            if rc > 0 { return rc }
            let error = SSL_get_error(ssl, rc)
            let saved = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT
                guard try socket.wait(Int32(events), deadline: deadline) else {
                    throw OutboundHTTPError(timeout, "\(what): timed out")
                }
            case SSL_ERROR_ZERO_RETURN:
                throw OutboundHTTPError(.closedEarly, "\(what): the peer closed the TLS session")
            case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
                if saved == 0 { throw OutboundHTTPError(.closedEarly, "\(what): the peer closed the connection") }
                throw OutboundHTTPError(.io, what, errno: saved)
            default:
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    let reason = String(cString: X509_verify_cert_error_string(verify))
                    _ = OutboundTLSContext.error(what)  // drain the queue
                    throw OutboundHTTPError(.tls, "\(what): certificate not accepted: \(reason)")
                }
                throw OutboundTLSContext.error(what)
            }
        }
    }

    private static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
