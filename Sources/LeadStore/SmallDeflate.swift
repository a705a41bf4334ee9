private import CZlib

/// Raw deflate for the small values a row stores packed (`PackedJSON`'s documents,
/// `PackedSignals`' engine state): one stream is set up and primed once, and each value is packed
/// from a copy of it, since setting a stream up (and hashing a preset dictionary into it) cost
/// more than packing a value of a few hundred bytes (docs/benchmarks/storage.md). No zlib header or
/// checksum: the row is the frame, and the caller's first byte says how the rest was packed.
struct SmallDeflate: @unchecked Sendable {
    /// Never written after `init`: `deflateCopy` only reads its source, so threads copy it at
    /// once without a lock. Nil when zlib could not allocate it (callers then store values as
    /// they are).
    private let primed: UnsafeMutablePointer<z_stream>?

    /// A stream of 2^`windowBits` bytes of window, memory level 4 (~40 KB to copy: zlib's
    /// default level 9 tables made copying dearer than building), primed with `dictionary`.
    init(windowBits: Int32, dictionary: [UInt8]) {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard lr_deflateInit2Memory(stream, 6, -windowBits, 4) == Z_OK else { primed = nil; return }
        if !dictionary.isEmpty {
            let status = dictionary.withUnsafeBufferPointer { deflateSetDictionary(stream, $0.baseAddress, UInt32($0.count)) }
            guard status == Z_OK else { primed = nil; return }
        }
        primed = stream
    }

    /// `header` followed by `input` deflated; nil when zlib failed.
    func pack(_ input: [UInt8], header: UInt8) -> [UInt8]? { pack(input, header: [header]) }

    /// `header` (a few bytes) followed by `input` deflated; nil when zlib failed.
    func pack(_ input: [UInt8], header: [UInt8]) -> [UInt8]? {
        guard let primed else { return nil }
        var stream = z_stream()
        guard deflateCopy(&stream, primed) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + header.count)
        output.replaceSubrange(0..<header.count, with: header)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress! + header.count
                stream.avail_out = UInt32(outBuf.count - header.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange((header.count + Int(stream.total_out))...)
        return output
    }

    /// Raised when stored bytes do not unpack (an unknown dictionary, damaged data).
    struct Damaged: Error, CustomStringConvertible {
        var description: String
    }

    /// The bytes `packed` (raw deflate, without the caller's header byte) holds, inflated with the
    /// `dictionary` it was packed with.
    static func unpack(_ packed: ArraySlice<UInt8>, dictionary: [UInt8]) throws(Damaged) -> [UInt8] {
        var stream = z_stream()
        guard lr_inflateInit2(&stream, -15) == Z_OK else { throw Damaged(description: "zlib could not start") }
        defer { inflateEnd(&stream) }
        if !dictionary.isEmpty {
            let primed = dictionary.withUnsafeBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, UInt32($0.count)) }
            guard primed == Z_OK else { throw Damaged(description: "zlib refused the dictionary") }
        }
        var input = Array(packed)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4096, input.count * 16))
        var status: Int32 = Z_OK
        var damaged: Damaged?
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                guard status == Z_OK || status == Z_STREAM_END else {
                    damaged = Damaged(description: "damaged packed bytes (zlib \(status))"); return
                }
                // Z_OK with nothing produced and nothing left to read: the stream ended early.
                if status == Z_OK, produced == 0, stream.avail_in == 0 { damaged = Damaged(description: "truncated packed bytes"); return }
            } while status != Z_STREAM_END
        }
        if let damaged { throw damaged }
        return output
    }
}
