private import CZlib

/// Inflates `Content-Encoding: gzip` request bodies (Segment SDKs compress batches).
/// The output is capped so that a small compressed body cannot expand into gigabytes
/// (a "zip bomb"): past `maxOutputBytes` inflation stops with `.tooLarge`.
public enum GzipInflater {
    /// Why a body could not be inflated; each maps to a 4xx for the sender.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case invalidData(String)
        case truncated
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case let .invalidData(reason): return "the gzip body is not valid: \(reason)"
            case .truncated: return "the gzip body ends before its last block"
            case let .tooLarge(limit): return "the body inflates to more than \(limit) bytes"
            }
        }
    }

    /// Inflates a gzip (RFC 1952) member stream; concatenated members are inflated in turn.
    public static func inflate(_ input: [UInt8], maxOutputBytes: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib stream.
        guard lr_inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK else {
            throw .invalidData("zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var failure: Failure?
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > maxOutputBytes { failure = .tooLarge(limit: maxOutputBytes); return }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 { failure = .truncated; return }
                case Z_STREAM_END:
                    // Another gzip member may follow (RFC 1952 §2.2); reset and go on.
                    if stream.avail_in == 0 { return }
                    guard inflateReset(&stream) == Z_OK else { failure = .invalidData("reset failed"); return }
                case Z_BUF_ERROR:
                    failure = .truncated; return
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    failure = .invalidData(message); return
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
