/// Segment name → index, for reading a lead's stored memberships on every evaluation: an
/// open-addressing table over FNV-1a, so a lookup hashes the name's bytes in one tight loop
/// instead of through `Hasher` (SipHash), which was most of reading the memberships.
struct NameTable: Sendable {
    /// Per slot the name and its index (-1: empty slot).
    private let names: [String]
    private let indices: [Int]
    private let mask: Int

    /// `names` must be distinct (segment names are).
    init(_ names: [String]) {
        var capacity = 8
        while capacity < names.count * 4 { capacity *= 2 }
        var slotNames = [String](repeating: "", count: capacity)
        var slotIndices = [Int](repeating: -1, count: capacity)
        for (i, name) in names.enumerated() {
            var slot = NameTable.hash(name) & (capacity - 1)
            while slotIndices[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
            slotNames[slot] = name
            slotIndices[slot] = i
        }
        self.names = slotNames
        self.indices = slotIndices
        mask = capacity - 1
    }

    func index(of name: String) -> Int? {
        var slot = NameTable.hash(name) & mask
        while indices[slot] >= 0 {
            if names[slot] == name { return indices[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private static func hash(_ name: String) -> Int {
        var h = FNV1a.offset
        FNV1a.mix(&h, name)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}

/// FNV-1a 64 over a string's UTF-8 bytes: cheap, stable across processes (unlike `Hasher`).
enum FNV1a {
    static let offset: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Mixes the bytes of `text` into `h`, read contiguously (iterating `utf8` goes index by index).
    @inline(__always)
    static func mix(_ h: inout UInt64, _ text: String) {
        var text = text
        text.withUTF8 { bytes in for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
    }

    /// Mixes one byte (a separator).
    @inline(__always)
    static func mix(_ h: inout UInt64, byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
}
