import Foundation

/// One outbound TCP connection (the file descriptor is closed in `deinit`). Non-blocking from the
/// start: connect, read and write wait with `poll` so every step honours a deadline and a
/// hung receiver costs a worker thread at most the configured timeout.
final class OutboundSocket {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Resolves `host` (bounded by the deadline) and connects to the first address that answers
    /// within the deadline. Every address is checked against `policy` right before it is
    /// connected to — after resolution, so a name that resolved to a public address when the
    /// subscription was created and to a private one now (DNS rebinding) is still refused. When
    /// no address may be connected to, the error is the same whatever the addresses were.
    static func connect(host: String, port: Int, deadline: Deadline, policy: DestinationPolicy) throws -> OutboundSocket {
        let addresses = try policy.resolver.resolve(host, deadline: deadline)
        var lastError = OutboundHTTPError(.blockedAddress, OutboundHTTPError.blockedDetail)
        for address in addresses {
            guard policy.refusal(of: address) == nil else { continue }
            do {
                return try attempt(address, deadline: deadline, host: host, port: port)
            } catch let error as OutboundHTTPError {
                lastError = error
                if error.code == .connectTimeout { break }
            }
        }
        throw lastError
    }

    private static func attempt(_ address: IPAddress, deadline: Deadline, host: String, port: Int) throws -> OutboundSocket {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(address.family, type, 0)
        guard fd >= 0 else { throw OutboundHTTPError(.connect, "socket()", errno: errno) }
        let socket = OutboundSocket(fd: fd)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.withSockaddr(port: port, { Glibc.connect(fd, $0, $1) }) != 0 {
            guard errno == EINPROGRESS else { throw OutboundHTTPError(.connect, "connect to \(host):\(port)", errno: errno) }
            guard try socket.wait(POLLOUT, deadline: deadline) else {
                throw OutboundHTTPError(.connectTimeout, "no connection to \(host):\(port) within the connect timeout")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
                throw OutboundHTTPError(.connect, "getsockopt(SO_ERROR)", errno: errno)
            }
            guard error == 0 else { throw OutboundHTTPError(.connect, "connect to \(host):\(port)", errno: error) }
        }
        return socket
    }

    /// Waits until the socket is ready for `events`; false when the deadline passed first.
    func wait(_ events: Int32, deadline: Deadline) throws -> Bool {
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining == 0 { return false }
            var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
            let n = poll(&entry, 1, remaining)
            if n > 0 { return true }
            if n == 0 { return false }
            if errno != EINTR { throw OutboundHTTPError(.io, "poll", errno: errno) }
        }
    }

    /// Writes every byte before the deadline.
    func writeAll(_ bytes: [UInt8], deadline: Deadline) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK else {
                throw OutboundHTTPError(.io, "sending the request", errno: errno)
            }
            guard try wait(POLLOUT, deadline: deadline) else {
                throw OutboundHTTPError(.responseTimeout, "the receiver did not accept the request within the response timeout")
            }
        }
    }

    /// Reads what is available (waiting for some before the deadline); empty at end of stream.
    func read(max: Int, deadline: Deadline) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
            if n >= 0 { return Array(buffer.prefix(n)) }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { throw OutboundHTTPError(.io, "reading the response", errno: errno) }
            guard try wait(POLLIN, deadline: deadline) else {
                throw OutboundHTTPError(.responseTimeout, "no response within the response timeout")
            }
        }
    }
}
