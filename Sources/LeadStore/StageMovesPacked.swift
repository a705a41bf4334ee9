import Foundation
import Postgres

/// One hour of stage moves as `stage_moves_hourly_packed.moves` holds them (migration 0086): the
/// hour's (from, to) pairs one after another, each the from-stage's UTF-8 bytes, 0x00, the
/// to-stage's, 0x00, then `moves` and `goal_reached` as big-endian 32-bit integers. A year by
/// hour is then 8 760 rows instead of 105 000 (one per pair), which is where its time went.
enum StageMovesPacked {
    /// Calls `pair` for each pair in `bytes`, the stage names as positions in `names` (nil for
    /// `''`, no stage, or a stage not among them, as `PostgresRow.index(at:in:)` gives them).
    /// Throws `decoding` on bytes that do not follow the format.
    static func forEach(in bytes: UnsafeRawBufferPointer, names: [[UInt8]],
                        _ pair: (_ from: Int?, _ to: Int?, _ moves: Int, _ goalReached: Int) -> Void) throws {
        var i = 0
        /// The name ending at the next 0x00 from `i`, as a position in `names`; moves `i` past it.
        func name() throws -> Int? {
            // memchr: a generic `firstIndex(of:)` over the slice was a third of the decoding.
            guard let base = bytes.baseAddress, i < bytes.count, let nul = memchr(base + i, 0, bytes.count - i) else { throw malformed }
            let end = base.distance(to: UnsafeRawPointer(nul))
            let text = UnsafeRawBufferPointer(rebasing: bytes[i..<end])
            i = end + 1
            return names.firstIndex { $0.count == text.count && $0.elementsEqual(text) }
        }
        /// A big-endian 32-bit integer at `i`; moves `i` past it.
        func int32() throws -> Int {
            guard i + 4 <= bytes.count else { throw malformed }
            defer { i += 4 }
            return Int(Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: Int32.self)))
        }
        while i < bytes.count {
            let from = try name(), to = try name()
            let moves = try int32(), goalReached = try int32()
            pair(from, to, moves, goalReached)
        }
    }

    static let malformed = PostgresError(code: .decoding, message: "stage_moves_hourly_packed: bytes that are not (from, 0, to, 0, int4, int4) pairs")
}
