private import COpenSSL

/// The result of one non-blocking transport step.
enum TransportResult: Equatable {
    /// This many bytes moved.
    case bytes(Int)
    /// Nothing can move until the socket is readable (`wantWrite == false`) or writable.
    case wouldBlock(wantWrite: Bool)
    /// The peer closed cleanly.
    case eof
    /// The connection is broken; the text says why (for the debug log).
    case failed(String)
}

/// Owner of one `SSL` handle on a non-blocking socket (freed in `deinit`). Every call returns
/// at once; `SSL_ERROR_WANT_READ/WRITE` become `.wouldBlock`, which the loop turns into
/// epoll interest, so the handshake and records never block a loop.
final class TLSSession {
    private let ssl: OpaquePointer
    var sslHandle: OpaquePointer { ssl }
    private let context: TLSContext  // keeps the SSL_CTX alive as long as the session
    private(set) var handshakeDone = false

    init(context: TLSContext, fd: Int32) throws {
        guard let ssl = SSL_new(context.handle) else { throw TLSError("creating a session") }
        self.ssl = ssl
        self.context = context
        guard SSL_set_fd(ssl, fd) == 1 else { throw TLSError("attaching the socket") }
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake: `.bytes(0)` when done.
    func handshake() -> TransportResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeDone = true
            return .bytes(0)
        }
        return classify(rc, operation: "handshake")
    }

    /// Reads decrypted bytes into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if rc > 0 { return .bytes(Int(rc)) }
        return classify(rc, operation: "read")
    }

    /// Encrypts and sends bytes from `buffer` (partial writes allowed).
    func write(_ buffer: UnsafeRawBufferPointer) -> TransportResult {
        guard buffer.count > 0 else { return .bytes(0) }
        ERR_clear_error()
        let rc = SSL_write(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if rc > 0 { return .bytes(Int(rc)) }
        return classify(rc, operation: "write")
    }

    /// Sends close_notify once (best effort, never waits for the peer's).
    func shutdown() {
        guard handshakeDone else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    private func classify(_ rc: Int32, operation: String) -> TransportResult {
        let error = SSL_get_error(ssl, rc)
        switch error {
        case SSL_ERROR_WANT_READ: return .wouldBlock(wantWrite: false)
        case SSL_ERROR_WANT_WRITE: return .wouldBlock(wantWrite: true)
        case SSL_ERROR_ZERO_RETURN: return .eof
        case SSL_ERROR_SYSCALL:
            let detail = TLSError.drainOpenSSLErrors()
            return rc == 0 ? .eof : .failed("TLS \(operation): syscall error \(detail)")
        default:
            return .failed("TLS \(operation): \(TLSError.drainOpenSSLErrors())")
        }
    }
}

extension TLSSession {
    /// Whether decrypted bytes wait inside OpenSSL (epoll cannot report those).
    var hasPendingInput: Bool { SSL_pending(sslHandle) > 0 }
}
