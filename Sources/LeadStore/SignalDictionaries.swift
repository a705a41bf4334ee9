import Cryptography
import Essentials
import Segmentation

/// The preset dictionaries lead signal states are packed with (`PackedSignals`, migrations/0103),
/// held in memory by this process: by id for decoding (content-addressed, so the same for every
/// database), and by database and ruleset version for packing — a version packs with its
/// dictionary only once this process has stored it in that database, so every row it writes
/// names a dictionary the database holds (a second node, a restart, an export decode it).
package final class SignalDictionaries: Sendable {
    /// The one registry of the process.
    package static let shared = SignalDictionaries()

    /// A dictionary and its id.
    package struct Entry: Sendable {
        package let id: Int32
        package let bytes: [UInt8]
    }

    /// What packs a version's states: the header naming the dictionary (`PackedSignals`) and a
    /// packer holding its hash chains, both made once.
    struct Packer: Sendable {
        let header: [UInt8]
        let deflater: SmallDeflate

        init(_ dictionary: Entry) {
            header = [PackedSignals.dictionaryMarker] + SignalDictionaries.bytes(ofId: dictionary.id)
            deflater = SmallDeflate(windowBits: PackedSignals.windowBits, dictionary: dictionary.bytes)
        }
    }

    private struct State {
        var byId: [Int32: [UInt8]] = [:]
        var packers: [PackerKey: Packer] = [:]
    }

    private struct PackerKey: Hashable {
        let database: Int
        let version: Int
    }

    private let state = Locked(State())

    /// The id of `bytes`: the first 4 bytes of its SHA-256, big-endian.
    package static func id(of bytes: [UInt8]) -> Int32 {
        id(bigEndian: Crypto.sha256(bytes).prefix(4))
    }

    /// The id 4 big-endian bytes hold (a digest's first bytes, a packed state's header).
    static func id(bigEndian bytes: some Collection<UInt8>) -> Int32 {
        Int32(bitPattern: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }

    /// `id` as 4 big-endian bytes.
    static func bytes(ofId id: Int32) -> [UInt8] {
        let bits = UInt32(bitPattern: id)
        return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: bits >> $0) }
    }

    /// `ruleset`'s dictionary (its empty signal state) with its id.
    package static func dictionary(of ruleset: Ruleset) -> Entry {
        let bytes = ruleset.emptySignalEncoding
        return Entry(id: id(of: bytes), bytes: bytes)
    }

    /// The dictionary `id`, if this process holds it.
    func bytes(_ id: Int32) -> [UInt8]? { state.withLock { $0.byId[id] } }

    /// Holds dictionaries read from a database (their ids checked against their bytes).
    func remember(_ dictionaries: [Entry]) {
        state.withLock { s in for d in dictionaries where Self.id(of: d.bytes) == d.id { s.byId[d.id] = d.bytes } }
    }

    /// `version`'s states written through connections to `database` pack with `dictionary` from now
    /// on (the caller has stored it there).
    func usePacking(_ dictionary: Entry, database: Int, version: Int) {
        let packer = Packer(dictionary)
        state.withLock { s in
            s.byId[dictionary.id] = dictionary.bytes
            s.packers[PackerKey(database: database, version: version)] = packer
        }
    }

    /// The packer of `version` in `database`; nil when its dictionary was not stored by this
    /// process (the state is then packed without one).
    func packer(database: Int, version: Int) -> Packer? {
        state.withLock { $0.packers[PackerKey(database: database, version: version)] }
    }

    /// Forgets every dictionary: the process then decodes as a freshly started node would (tests).
    package func forgetAll() { state.withLock { $0 = State() } }
}
