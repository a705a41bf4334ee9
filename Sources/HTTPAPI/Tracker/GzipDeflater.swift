private import CZlib

/// Compresses a response body as gzip (RFC 1952), for assets the service serves from memory
/// and compresses once at start (lr.js), never per request.
enum GzipDeflater {
    /// `input` as one gzip member at level 9; nil only if zlib fails (out of memory).
    static func compress(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        // 16 + MAX_WBITS: write a gzip header and trailer, not a raw zlib stream.
        guard lr_deflateInit2(&stream, 9, 16 + MAX_WBITS) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        return Array(output[0..<Int(stream.total_out)])
    }
}
