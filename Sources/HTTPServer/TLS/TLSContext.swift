import Cryptography
private import COpenSSL

/// Where the listener's certificate chain and private key live (PEM files).
public struct TLSConfiguration: Sendable, Equatable {
    /// PEM file with the server certificate, followed by any intermediates.
    public var certificatePath: String
    /// PEM file with the private key of that certificate.
    public var keyPath: String

    /// Both files are read when the server starts, not here.
    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// A TLS failure with OpenSSL's own error text (the queue is drained into the message).
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What we were doing, e.g. `"loading the certificate"`.
    public var operation: String
    /// OpenSSL's error queue, rendered.
    public var detail: String

    init(_ operation: String) {
        self.operation = operation
        self.detail = TLSError.drainOpenSSLErrors()
    }

    /// What failed and OpenSSL's reason, safe to show an operator.
    public var description: String { "TLS: \(operation) failed: \(detail)" }

    static func drainOpenSSLErrors() -> String { OpenSSLErrors.drain() }
}

/// Owner of one server `SSL_CTX` (freed in `deinit`): certificate, key, TLS 1.2 minimum.
/// Shared read-only by every loop; OpenSSL makes `SSL_new` on a shared context thread-safe.
final class TLSContext: @unchecked Sendable {
    let handle: OpaquePointer

    /// Loads and checks the certificate and key; fails with OpenSSL's reason.
    init(configuration: TLSConfiguration) throws {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSError("creating the context") }
        handle = ctx
        guard lr_SSL_CTX_configure_server(ctx) == 1 else { throw TLSError("setting TLS 1.2 as minimum") }
        guard SSL_CTX_use_certificate_chain_file(ctx, configuration.certificatePath) == 1 else {
            throw TLSError("loading the certificate \(configuration.certificatePath)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, configuration.keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError("loading the private key \(configuration.keyPath)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError("matching the private key to the certificate")
        }
    }

    deinit { SSL_CTX_free(handle) }

    /// A new server session on the accepted socket `fd`.
    func makeSession(fd: Int32) throws -> TLSSession { try TLSSession(context: self, fd: fd) }
}
