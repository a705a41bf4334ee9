/// The engine's signal state (`SignalState.encode()`) as `leads.signal_state` stores it, in one of
/// three forms told apart by the first byte (the engine's encodings start with their format
/// version, 1 or 2, never with a marker):
/// - `dictionaryMarker`, the dictionary's id (4 bytes, big-endian), raw deflate primed with that
///   dictionary — the ruleset's empty state (`SignalDictionaries`, migrations/0103). A state repeats
///   every signal's key and coverage, which the dictionary holds, so only the times are left: a
///   state of the sample ruleset, ~420 B, is ~35 B stored (docs/benchmarks/storage.md);
/// - `marker`, raw deflate without a dictionary (~330 B; rows before 0103, and versions whose
///   dictionary this process has not stored);
/// - the encoding as it is, when packing does not make it shorter.
/// PostgreSQL compresses nothing in a row under ~2 KB, and never with a dictionary.
enum PackedSignals {
    /// First byte of a state packed without a dictionary.
    static let marker: UInt8 = 0xFF
    /// First byte of a state packed with a dictionary.
    static let dictionaryMarker: UInt8 = 0xFE

    /// 2^10 = 1 KiB of window: a state's dictionary (a few hundred bytes) and the state both fit.
    static let windowBits: Int32 = 10

    /// Packs without a dictionary (2^9 = 512 B of window: states are a few hundred bytes).
    static let deflater = SmallDeflate(windowBits: 9, dictionary: [])

    /// What the row stores for `encoded`, packed with `packer`'s dictionary when there is one.
    static func pack(_ encoded: [UInt8], with packer: SignalDictionaries.Packer? = nil) -> [UInt8] {
        if let packer {
            let packed = packer.deflater.pack(encoded, header: packer.header)
            if packed.count < encoded.count { return packed }
        }
        let packed = deflater.pack(encoded, header: marker)
        return packed.count < encoded.count ? packed : encoded
    }

    /// The id of the dictionary a stored value is packed with; nil when it names none.
    static func dictionaryId(_ stored: [UInt8]) -> Int32? {
        guard stored.count >= 5, stored[0] == dictionaryMarker else { return nil }
        return SignalDictionaries.id(bigEndian: stored[1...4])
    }

    /// The engine's encoding a stored value holds; `MissingSignalDictionary` when it names a
    /// dictionary this process does not hold (the caller reads the dictionaries and tries again).
    static func unpack(_ stored: [UInt8], dictionaries: SignalDictionaries = .shared) throws -> [UInt8] {
        switch stored.first {
        case marker:
            return try SmallDeflate.unpack(stored.dropFirst(), dictionary: [])
        case dictionaryMarker:
            guard let id = dictionaryId(stored) else { throw SmallDeflate.Damaged(description: "truncated signal state") }
            guard let dictionary = dictionaries.bytes(id) else { throw MissingSignalDictionary(id: id) }
            return try SmallDeflate.unpack(stored.dropFirst(5), dictionary: dictionary)
        default:
            return stored
        }
    }
}

/// A stored signal state names a dictionary this process does not hold (yet).
struct MissingSignalDictionary: Error, CustomStringConvertible {
    var id: Int32
    var description: String { "unknown signal state dictionary \(id)" }
}
