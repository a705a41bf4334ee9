import Essentials
private import CLibdeflate

/// Compresses a response body as gzip (RFC 1952): lr.js once at start, at the smallest level
/// (`TrackerScriptRoutes`); large JSON answers per request, at the fastest (`CompressResponses`).
/// libdeflate, not zlib: a body is compressed whole, which is all libdeflate does, and it does it
/// in about half zlib's time at the same size (the 5.5 MB year of hourly stage metrics: level 1
/// 9.8 ms against zlib level 2's 18.9 ms, 641 KB against 626 KB; docs/insight.md#compressed-answers).
enum GzipDeflater {
    /// The smallest output libdeflate makes (its levels run 1 fastest … 12 smallest).
    static let smallest: Int32 = 12

    /// `input` as one gzip member at `level`; nil only if libdeflate fails (out of memory).
    static func compress(_ input: [UInt8], level: Int32 = smallest) -> [UInt8]? {
        guard let compressor = Compressor(level: level) else { return nil }
        return compressor.gzip(input)
    }

    /// Owns one libdeflate compressor (its match finder's tables), freed when the last reference goes.
    private final class Compressor {
        let handle: OpaquePointer

        init?(level: Int32) {
            guard let handle = libdeflate_alloc_compressor(level) else { return nil }
            self.handle = handle
        }

        deinit { libdeflate_free_compressor(handle) }

        func gzip(_ input: [UInt8]) -> [UInt8]? {
            let bound = libdeflate_gzip_compress_bound(handle, input.count)
            // Read in place and written into uninitialised memory: no copy of a 5.5 MB answer and
            // no zero-filling of its bound.
            let output = input.withUnsafeBytes { inBuf in
                [UInt8](unsafeUninitializedCapacity: bound) { outBuf, written in
                    written = libdeflate_gzip_compress(handle, inBuf.baseAddress, inBuf.count,
                                                       outBuf.baseAddress, outBuf.count)
                }
            }
            return output.isEmpty ? nil : output  // 0 bytes written: the bound was too small (cannot happen) or it failed
        }
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
