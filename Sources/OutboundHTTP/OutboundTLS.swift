import Cryptography
private import COpenSSL
import Essentials
import Foundation

/// Owner of the client `SSL_CTX` for webhook HTTPS (freed in `deinit`): peer verification on,
/// the system's trust store, plus an optional extra CA file (a private CA of a receiver).
/// Created once per delivery service and shared by its worker threads (`SSL_new` on a shared
/// context is thread-safe). It also owns the sessions kept for resumption (`sessions`): a new
/// connection to a receiver offers the last session that receiver issued, so the handshake skips
/// the certificate exchange and key agreement's signature (a TLS 1.3 ticket or a 1.2 session id).
final class OutboundTLSContext: @unchecked Sendable {
    fileprivate let handle: OpaquePointer
    let sessions = TLSSessionCache()

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
        // Sessions are handed to us when the server issues them (in TLS 1.3 after the handshake,
        // while the response is read); OpenSSL's own client cache is never consulted anyway.
        _ = lr_SSL_CTX_enable_client_session_cache(ctx)
        SSL_CTX_sess_set_new_cb(ctx) { ssl, session in
            guard let ssl, let session, let owner = SSL_get_ex_data(ssl, 0) else { return 0 }
            let connection = Unmanaged<OutboundTLSSession>.fromOpaque(owner).takeUnretainedValue()
            connection.sessions.store(session, for: connection.receiver)
            return 1  // the reference is ours now (the cache frees it)
        }
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
    /// "host:port": which cached session this connection offers and replaces.
    fileprivate let receiver: String
    fileprivate let sessions: TLSSessionCache

    init(context: OutboundTLSContext, socket: OutboundSocket, host: String, port: Int, deadline: Deadline) throws {
        guard let ssl = SSL_new(context.handle) else { throw OutboundTLSContext.error("SSL_new") }
        self.ssl = ssl
        self.socket = socket
        receiver = "\(host):\(port)"
        sessions = context.sessions
        // The new-session callback finds this object through the SSL's app data; `self` owns
        // the SSL, so the pointer is valid whenever the callback can run.
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        guard SSL_set_fd(ssl, socket.fd) == 1 else { throw OutboundTLSContext.error("SSL_set_fd") }
        if let offered = sessions.copy(for: receiver) {
            _ = SSL_set_session(ssl, offered)  // takes its own reference
            SSL_SESSION_free(offered)
        }
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

    /// An SSL call failed or timed out: the session is not shut down cleanly (and so not offered again).
    private var broken = false

    /// A connection closed without `SSL_shutdown` makes OpenSSL mark its session not resumable
    /// (`ssl_clear_bad_session`), so a healthy one sends close_notify first — without waiting
    /// for the receiver's (non-blocking: whatever the socket takes).
    deinit {
        if !broken && SSL_is_init_finished(ssl) == 1 { _ = SSL_shutdown(ssl) }
        SSL_free(ssl)
    }

    /// Whether the handshake resumed a cached session (no certificate was sent or checked again:
    /// the session was verified when it was first established).
    var resumed: Bool { SSL_session_reused(ssl) == 1 }

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
        do {
            return try retryUnmarked(deadline: deadline, timeout: timeout, what, call)
        } catch {
            broken = true
            throw error
        }
    }

    private func retryUnmarked(deadline: Deadline, timeout: OutboundHTTPError.Code, _ what: String, _ call: () -> Int32) throws -> Int32 {
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

/// The latest session each receiver ("host:port") issued, for resumption: owned here (each entry
/// holds one reference, freed when replaced or with the cache). Shared by the delivery workers.
final class TLSSessionCache: @unchecked Sendable {
    private let sessions = Locked<[String: OpaquePointer]>([:])

    deinit { sessions.withLock { $0.values.forEach { SSL_SESSION_free($0) } } }

    /// Keeps `session` (taking over the caller's reference) if it can be resumed; frees the one it replaces.
    func store(_ session: OpaquePointer, for receiver: String) {
        guard SSL_SESSION_is_resumable(session) == 1 else { SSL_SESSION_free(session); return }
        let old = sessions.withLock { $0.updateValue(session, forKey: receiver) }
        if let old { SSL_SESSION_free(old) }
    }

    /// How many receivers have a session kept (tests).
    var count: Int { sessions.withLock { $0.count } }

    /// A new reference to the receiver's session (the caller frees it), nil when none is kept.
    func copy(for receiver: String) -> OpaquePointer? {
        sessions.withLock { all in
            guard let session = all[receiver] else { return nil }
            SSL_SESSION_up_ref(session)
            return session
        }
    }
}
