/// The engine's signal state (`SignalState.encode()`) as `leads.signal_state` stores it: raw
/// deflate behind a marker byte when that is shorter, else the encoding as it is. The encoding
/// repeats each signal's coverage (keep, window, flags) and most series are empty, so a state of
/// the sample ruleset, ~420 B, packs to about half; PostgreSQL compresses nothing in a row under
/// ~2 KB (docs/benchmarks/storage.md). A row written before (or left unpacked) reads as it is:
/// the engine's encodings start with their format version (1, 2), never with `marker`.
enum PackedSignals {
    /// First byte of a packed state.
    static let marker: UInt8 = 0xFF

    /// 2^9 = 512 B of window: states are a few hundred bytes, and a small window is a small
    /// stream to copy per pack.
    static let deflater = SmallDeflate(windowBits: 9, dictionary: [])

    /// What the row stores for `encoded`.
    static func pack(_ encoded: [UInt8]) -> [UInt8] {
        guard let packed = deflater.pack(encoded, header: marker), packed.count < encoded.count else { return encoded }
        return packed
    }

    /// The engine's encoding a stored value holds.
    static func unpack(_ stored: [UInt8]) throws -> [UInt8] {
        guard stored.first == marker else { return stored }
        return try SmallDeflate.unpack(stored.dropFirst(), dictionary: [])
    }
}
