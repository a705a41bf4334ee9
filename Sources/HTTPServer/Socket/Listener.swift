#if canImport(Glibc)
import Glibc
#endif
private import CSystemShims

/// The listening socket (owner of its fd): bound, listening, non-blocking.
final class Listener: @unchecked Sendable {
    let fd: Int32
    /// The port actually bound (differs from the requested one when that was 0).
    let port: Int
    private var isClosed = false

    /// Binds `host:port` (numeric IPv4 or IPv6) with SO_REUSEADDR and starts listening.
    init(host: String, port: Int, backlog: Int32 = 1024) throws {
        var address = sockaddr_storage()
        var length = socklen_t(0)
        let family = lr_make_address(host, Int32(port), &address, &length)
        guard family >= 0 else {
            throw SystemError("parse listen address \(host) (numeric IPv4 or IPv6 expected)", errno: EINVAL)
        }
        let fd = lr_socket_stream(family)
        guard fd >= 0 else { throw SystemError("socket") }
        self.fd = fd
        if lr_set_reuseaddr(fd) != 0 { let e = SystemError("setsockopt(SO_REUSEADDR)"); Glibc.close(fd); throw e }
        if family == AF_INET6, host == "::" { _ = lr_set_v6only(fd, 0) }  // "::" also takes IPv4
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        if bound != 0 { let e = SystemError("bind \(host):\(port)"); Glibc.close(fd); throw e }
        if listen(fd, backlog) != 0 { let e = SystemError("listen"); Glibc.close(fd); throw e }
        let actual = lr_local_port(fd)
        if actual < 0 { let e = SystemError("getsockname"); Glibc.close(fd); throw e }
        self.port = Int(actual)
    }

    /// Accepts one pending connection: its fd (non-blocking, close-on-exec) and peer text,
    /// `nil` when none is pending.
    func accept() throws -> (fd: Int32, peer: String)? {
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = lr_accept(fd, &peer, &length)
        if client < 0 {
            switch errno {
            case EAGAIN, EWOULDBLOCK: return nil
            case ECONNABORTED, EPROTO, EPERM: return try accept()
            default: throw SystemError("accept4")
            }
        }
        var text = [CChar](repeating: 0, count: 64)
        _ = lr_format_address(&peer, &text, text.count)
        return (client, String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Stops listening (new connections are refused by the kernel from now on).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    deinit { close() }
}

/// Socket calls the connection code needs, kept here so `CSystemShims` is imported in few files.
enum SocketIO {
    /// Reads into `buffer` from a non-blocking socket.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .eof }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock(wantWrite: false)
            default: return .failed(SystemError("read").description)
            }
        }
    }

    /// Writes from `buffer` without ever raising SIGPIPE.
    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> TransportResult {
        let n = lr_send(fd, buffer.baseAddress, buffer.count)
        if n >= 0 { return .bytes(n) }
        switch errno {
        case EAGAIN, EWOULDBLOCK: return .wouldBlock(wantWrite: true)
        default: return .failed(SystemError("send").description)
        }
    }

    /// Half-closes the sending side (lingering close).
    static func shutdownWrite(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    static func setNoDelay(_ fd: Int32) { _ = lr_set_nodelay(fd) }

    /// Ignores SIGPIPE (TLS writes use write(2)).
    static func ignoreSIGPIPE() { lr_ignore_sigpipe() }
}
