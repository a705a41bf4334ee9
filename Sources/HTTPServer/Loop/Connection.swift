#if canImport(Glibc)
import Glibc
#endif

/// One accepted socket on its event loop: the fd (owned, closed in `close()`/`deinit`), an
/// optional TLS session, the output not yet written, and the protocol state machine.
/// Touched only by its loop's thread.
final class Connection {
    let token: UInt64
    let fd: Int32
    let peer: String
    let tls: TLSSession?
    /// Accepted beyond `maxConnections`: gets `503` and is closed.
    let rejecting: Bool
    var machine: ConnectionStateMachine
    /// The epoll interest currently registered.
    var interest: Epoll.Events = []
    /// Whether the TLS handshake is still running.
    var handshaking: Bool
    /// The state machine asked to close once `output` is written.
    var closeAfterFlush = false
    var linger = false
    /// Set while half-closed and draining the peer's input before the final close.
    var lingerDeadline: Nanoseconds?
    /// TLS needs the socket writable before it can go on (handshake or renegotiation data).
    var transportWantsWrite = false
    private(set) var output: [UInt8] = []
    private var outputOffset = 0
    /// Spooled bodies queued behind `output`, each with the bytes enqueued after it; `output`
    /// holds one chunk of the first at a time (`fileOffset` is where the next chunk starts).
    private var files: [(file: HTTPBodyFile, then: [UInt8])] = []
    private var fileOffset = 0
    private(set) var isClosed = false

    init(token: UInt64, fd: Int32, peer: String, tls: TLSSession?, rejecting: Bool, machine: ConnectionStateMachine) {
        self.token = token
        self.fd = fd
        self.peer = peer
        self.tls = tls
        self.rejecting = rejecting
        self.machine = machine
        self.handshaking = tls != nil
    }

    deinit { close() }

    var hasPendingOutput: Bool { outputOffset < output.count || !files.isEmpty }

    func enqueue(_ bytes: [UInt8]) {
        if !files.isEmpty {
            files[files.count - 1].then.append(contentsOf: bytes)
        } else if output.isEmpty {
            output = bytes
        } else {
            output.append(contentsOf: bytes)
        }
    }

    func enqueue(_ file: HTTPBodyFile) {
        files.append((file, []))
    }

    /// Refills `output` from the first queued file once it is written: its next chunk, or, when
    /// the file is done, the bytes queued after it. False when the file ended early (it was
    /// truncated under us): the framing promised more bytes, so the connection must close.
    private func refill() -> Bool {
        guard outputOffset >= output.count, let first = files.first else { return true }
        outputOffset = 0
        if fileOffset < first.file.length {
            output = first.file.chunk(at: fileOffset)
            fileOffset += output.count
            return !output.isEmpty
        }
        output = first.then
        files.removeFirst()
        fileOffset = 0
        return true
    }

    /// Reads through TLS or the plain socket.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        if let tls { return tls.read(into: buffer) }
        return SocketIO.read(fd, into: buffer)
    }

    /// Decrypted bytes TLS holds that epoll cannot see.
    var hasBufferedInput: Bool { tls?.hasPendingInput ?? false }

    /// Writes as much output as the socket takes. Returns `.bytes(total)` when all of it went,
    /// `.wouldBlock` when the rest waits for EPOLLOUT, `.failed` when the peer is gone.
    func flush() -> TransportResult {
        var total = 0
        guard refill() else { return .failed("the spooled body ended early") }
        while outputOffset < output.count {
            let result = output.withUnsafeBytes { all in
                let rest = UnsafeRawBufferPointer(rebasing: all[outputOffset...])
                return tls.map { $0.write(rest) } ?? SocketIO.write(fd, rest)
            }
            switch result {
            case .bytes(let n):
                outputOffset += n
                total += n
                guard refill() else { return .failed("the spooled body ended early") }
            case .wouldBlock:
                return result
            case .eof, .failed:
                return result
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        outputOffset = 0
        return .bytes(total)
    }

    /// Half-closes after the last answer (TLS close_notify first), so the peer sees our answer
    /// and an orderly end even if it is still sending.
    func shutdownWrite() {
        tls?.shutdown()
        SocketIO.shutdownWrite(fd)
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }
}
