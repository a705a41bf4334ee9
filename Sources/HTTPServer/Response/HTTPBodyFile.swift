#if canImport(Glibc)
import Glibc
#endif

/// A response body too large to hold in memory (a data export): the handler writes it into an
/// unlinked temporary file, piece by piece, and the event loop sends it from there in
/// `chunkSize` pieces as the socket takes them. Memory stays bounded by one chunk per
/// connection, whatever the body's size; the length is known, so the answer is framed with
/// `Content-Length` like every other. The file disappears when its last reference goes.
public final class HTTPBodyFile: Sendable {
    /// The bytes the loop reads and writes at a time.
    public static let chunkSize = 64 * 1024

    let fd: Int32
    /// The body's length in bytes.
    public let length: Int

    /// Creates the file in `directory` (`$TMPDIR`, else `/tmp`), unlinks it at once (nothing is
    /// left behind even if the process dies), and runs `produce`, which writes the body through
    /// the closure it is given. Throws what `produce` throws, or `SystemError` on a full disk.
    public init(directory: String? = nil, produce: ((_ bytes: [UInt8]) throws -> Void) throws -> Void) throws {
        let dir = directory ?? Self.temporaryDirectory
        var template = Array("\(dir)/leadrouter-body-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError("mkstemp") }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        var written = 0
        do {
            try produce { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw SystemError("write")
                    }
                    offset += n
                }
                written += bytes.count
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        self.length = written
    }

    deinit { Glibc.close(fd) }

    /// Up to `chunkSize` bytes from `offset` (fewer at the end; empty past it or on a read error).
    func chunk(at offset: Int) -> [UInt8] {
        let count = min(Self.chunkSize, length - offset)
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + got, count - got, off_t(offset + got)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        return got == count ? bytes : Array(bytes[..<got])
    }

    static var temporaryDirectory: String {
        if let dir = getenv("TMPDIR").map({ String(cString: $0) }), !dir.isEmpty { return dir }
        return "/tmp"
    }
}
