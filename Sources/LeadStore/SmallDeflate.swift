private import CZlib

/// Raw deflate for the small values a row stores packed (`PackedJSON`'s documents,
/// `PackedSignals`' engine state), with a preset dictionary. No zlib header or checksum: the row
/// is the frame, and the caller's first byte says how the rest was packed. Packing is
/// `FixedHuffmanDeflate` (one block with the fixed codes, the dictionary's chains built once);
/// until 2026-12-08 it was zlib at level 6 from a copy of a primed stream, whose rows read the
/// same way — unpacking is zlib's inflate, which reads both.
struct SmallDeflate: Sendable {
    private let encoder: FixedHuffmanDeflate

    /// Matches reach at most 2^`windowBits` bytes back (the dictionary and the value should fit).
    init(windowBits: Int32, dictionary: [UInt8]) {
        encoder = FixedHuffmanDeflate(windowBits: Int(windowBits), dictionary: dictionary)
    }

    /// `header` followed by `input` deflated.
    func pack(_ input: [UInt8], header: UInt8) -> [UInt8] { pack(input, header: [header]) }

    /// `header` (a few bytes) followed by `input` deflated.
    func pack(_ input: [UInt8], header: [UInt8]) -> [UInt8] { encoder.pack(input, header: header) }

    /// Raised when stored bytes do not unpack (an unknown dictionary, damaged data).
    struct Damaged: Error, CustomStringConvertible {
        var description: String
    }

    /// The bytes `packed` (raw deflate, without the caller's header byte) holds, inflated with the
    /// `dictionary` it was packed with (a stream set up for this value alone; `Inflater` for many).
    static func unpack(_ packed: ArraySlice<UInt8>, dictionary: [UInt8]) throws(Damaged) -> [UInt8] {
        guard let inflater = Inflater() else { throw Damaged(description: "zlib could not start") }
        return try Array(packed).withUnsafeBufferPointer { (bytes) throws(Damaged) -> [UInt8] in
            try inflater.unpack(UnsafeRawBufferPointer(bytes), dictionary: dictionary)
        }
    }

    /// One raw-inflate stream for many packed values, one after another on one thread (it is not
    /// shared): each value resets it instead of setting a stream up (zlib's state and its 32 KiB
    /// window allocated and freed per value), and inflates into a buffer kept between values
    /// rather than a zeroed 4 KiB chunk each time. A backtest unpacks every stored message of
    /// its period, one inflater per page read (`Store.backtestEventPage`).
    final class Inflater {
        /// On the heap, never moved: zlib's state points back at its stream.
        private let stream: UnsafeMutablePointer<z_stream>
        private var scratch: [UInt8] = []

        /// Nil when zlib could not allocate the stream.
        init?() {
            stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard lr_inflateInit2(stream, -15) == Z_OK else { stream.deallocate(); return nil }
        }

        deinit {
            inflateEnd(stream)
            stream.deallocate()
        }

        /// What `unpack` of the type gives: the bytes `packed` holds, inflated with `dictionary`.
        func unpack(_ packed: UnsafeRawBufferPointer, dictionary: [UInt8]) throws(Damaged) -> [UInt8] {
            guard inflateReset(stream) == Z_OK else { throw Damaged(description: "zlib could not start") }
            if !dictionary.isEmpty {
                let primed = dictionary.withUnsafeBufferPointer { inflateSetDictionary(stream, $0.baseAddress, UInt32($0.count)) }
                guard primed == Z_OK else { throw Damaged(description: "zlib refused the dictionary") }
            }
            if scratch.count < max(4096, packed.count * 16) { scratch = [UInt8](repeating: 0, count: max(4096, packed.count * 16)) }
            var produced = 0
            var status: Int32 = Z_OK
            // The stream keeps no pointer into `packed` or `scratch` after this call, thrown or not.
            defer { stream.pointee.next_in = nil; stream.pointee.next_out = nil }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: packed.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(packed.count)
            repeat {
                if produced == scratch.count { scratch += [UInt8](repeating: 0, count: scratch.count) }
                let before = produced
                scratch.withUnsafeMutableBufferPointer { out in
                    stream.pointee.next_out = out.baseAddress! + before
                    stream.pointee.avail_out = UInt32(out.count - before)
                    status = inflate(stream, Z_NO_FLUSH)
                    produced = out.count - Int(stream.pointee.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else { throw Damaged(description: "damaged packed bytes (zlib \(status))") }
                // Z_OK with nothing produced and nothing left to read: the stream ended early.
                if status == Z_OK, produced == before, stream.pointee.avail_in == 0 { throw Damaged(description: "truncated packed bytes") }
            } while status != Z_STREAM_END
            return Array(scratch[0..<produced])
        }
    }
}
