import Essentials
private import CZlib

/// Compresses a response body as gzip (RFC 1952): lr.js once at start, at level 9
/// (`TrackerScriptRoutes`); large JSON answers per request, at a fast level (`CompressResponses`).
enum GzipDeflater {
    /// `input` as one gzip member at `level` (1 fastest … 9 smallest); nil only if zlib fails (out of memory).
    static func compress(_ input: [UInt8], level: Int32 = 9) -> [UInt8]? {
        var stream = z_stream()
        // 16 + MAX_WBITS: write a gzip header and trailer, not a raw zlib stream.
        guard lr_deflateInit2(&stream, level, 16 + MAX_WBITS) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        var status: Int32 = Z_STREAM_ERROR
        // Read in place and written into uninitialised memory: no copy of a 5.5 MB answer and
        // no zero-filling of its bound.
        let output = input.withUnsafeBufferPointer { inBuf in
            [UInt8](unsafeUninitializedCapacity: bound) { outBuf, written in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)  // zlib only reads it
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                status = deflate(&stream, Z_FINISH)
                written = status == Z_STREAM_END ? Int(stream.total_out) : 0
            }
        }
        guard status == Z_STREAM_END else { return nil }
        return output
    }

    /// Whether `Accept-Encoding` lists `gzip` (or `*`) with a non-zero weight (RFC 9110 §12.5.3).
    static func accepted(by header: String?) -> Bool {
        guard let header else { return false }
        for item in header.lowercased().split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingWhitespace() }
            guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
            let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return weight > 0
        }
        return false
    }
}
