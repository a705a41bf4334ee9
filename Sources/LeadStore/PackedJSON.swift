private import CZlib
import Postgres

/// A stored JSON document in few bytes: raw deflate with a preset dictionary of documents like
/// it, behind one byte naming the dictionary. Decisions and membership reasons are ~1.2 KB and
/// ~0.5 KB of JSON whose keys, segment names and rule texts repeat from row to row; PostgreSQL
/// compresses nothing under ~2 KB a row, and even then without a dictionary. Packed they take
/// ~0.1 KB (docs/benchmarks/storage.md). Lossless: a document unpacks to its exact bytes, so
/// what the API serves is what the engine produced at write time.
package enum PackedJSON {
    /// The dictionary new documents are packed with.
    static let current: UInt8 = 1

    /// Every dictionary by its number; a number, once used, keeps its bytes forever.
    static let dictionaries: [UInt8: [UInt8]] = [1: Array(PackedJSONDictionary1.text.utf8)]

    /// 2^13 = 8 KiB of window: the dictionary fits, and the state a pack copies is a quarter of
    /// what zlib's 32 KiB default needs.
    static let windowBits: Int32 = 13

    /// Raised when stored bytes do not unpack (an unknown dictionary, damaged data).
    package struct Damaged: Error, CustomStringConvertible {
        package var description: String
    }

    /// A deflate stream primed with the current dictionary, made once and never written again:
    /// each `pack` starts from a copy of it. Setting up a stream and hashing the dictionary into
    /// it per document was ~70 % of a pack's instructions; memory level 4 keeps the copy small
    /// (~40 KB: zlib's default level 9 tables made copying dearer than building). Measured with
    /// callgrind on 100 decisions of the sample ruleset (1.65 KB of JSON each, ~119 B packed
    /// either way): ~350 k instructions a pack before, ~140 k now (docs/benchmarks/storage.md).
    /// `deflateCopy` only reads its source, so threads copy it at once without a lock. Nil when
    /// zlib could not allocate it (documents are then stored as they are, number 0).
    nonisolated(unsafe) fileprivate static let primed: UnsafeMutablePointer<z_stream>? = {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Negative window bits: raw deflate, no zlib header or checksum (the row is the frame).
        guard lr_deflateInit2Memory(stream, 6, -windowBits, 4) == Z_OK else { return nil }
        let dictionary = dictionaries[current]!
        let status = dictionary.withUnsafeBufferPointer { deflateSetDictionary(stream, $0.baseAddress, UInt32($0.count)) }
        return status == Z_OK ? stream : nil
    }()

    /// `document` packed with the current dictionary.
    package static func pack(_ document: PostgresJSON) -> [UInt8] {
        guard let primed else { return stored(document) }
        var stream = z_stream()
        guard deflateCopy(&stream, primed) == Z_OK else { return stored(document) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(document.bytes.count))) + 1)
        output[0] = current
        var input = document.bytes
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress! + 1
                stream.avail_out = UInt32(outBuf.count - 1)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return stored(document) }
        output.removeSubrange((1 + Int(stream.total_out))...)
        return output
    }

    /// Dictionary number 0: the document as it is (only if zlib cannot allocate its state).
    static func stored(_ document: PostgresJSON) -> [UInt8] { [0] + document.bytes }

    /// The document `packed` holds, in the bytes it was packed from.
    package static func unpack(_ packed: [UInt8]) throws -> PostgresJSON {
        guard let number = packed.first else { throw Damaged(description: "an empty packed document") }
        if number == 0 { return PostgresJSON(rawBytes: Array(packed.dropFirst())) }
        guard let dictionary = dictionaries[number] else { throw Damaged(description: "unknown packing dictionary \(number)") }
        var stream = z_stream()
        guard lr_inflateInit2(&stream, -15) == Z_OK else { throw Damaged(description: "zlib could not start") }
        defer { inflateEnd(&stream) }
        let primed = dictionary.withUnsafeBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, UInt32($0.count)) }
        guard primed == Z_OK else { throw Damaged(description: "zlib refused dictionary \(number)") }
        var input = Array(packed.dropFirst())
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4096, input.count * 16))
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { inBuf in
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
                guard status == Z_OK || status == Z_STREAM_END else { throw Damaged(description: "a damaged packed document (zlib \(status))") }
                // Z_OK with nothing produced and nothing left to read: the stream ended early.
                if status == Z_OK, produced == 0, stream.avail_in == 0 { throw Damaged(description: "a truncated packed document") }
            } while status != Z_STREAM_END
        }
        return PostgresJSON(rawBytes: output)
    }
}
