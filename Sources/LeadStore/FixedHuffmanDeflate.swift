/// Raw DEFLATE (RFC 1951) for the small values a row stores packed, without zlib: one block with
/// the fixed Huffman codes, matched against a preset dictionary whose hash chains are built once.
///
/// Why not zlib: packing a value of a few hundred bytes cost zlib ~100 k instructions whatever its
/// level — copying a primed stream (~40 KB of window, chains and buffers) and building the
/// dynamic Huffman trees of its one block, which zlib does even when it then picks the fixed codes
/// — 20 % of the server's instructions per single event (docs/benchmarks/ingest.md, 2026-12-08
/// "lr-cpu"). Values this small gain almost nothing from dynamic codes (zlib itself chose the
/// fixed ones for action states, messages and signal states; a decision is ~5 % larger), and the
/// dictionary's chains are immutable, so threads share them. Any inflater reads the output with
/// the same dictionary (`SmallDeflate.unpack`), as it reads what zlib wrote before.
struct FixedHuffmanDeflate: Sendable {
    private let dictionary: [UInt8]
    /// Per hash of 3 bytes, the last dictionary position starting with them (-1: none).
    private let dictionaryHead: [Int32]
    /// Per dictionary position, the previous position with the same hash (-1: none).
    private let dictionaryChain: [Int32]
    /// The farthest back a match may reach (a reader's window).
    private let maxDistance: Int

    private static let dictionaryHashBits = 12
    /// Candidates compared per position, as zlib's level 6 (`max_chain` 128) trimmed for values of a
    /// few hundred bytes whose matches are keys and rule texts found near the chain's start.
    private static let maxCandidates = 48
    /// A match at least this long is taken without looking one byte further (zlib's `max_lazy`).
    private static let lazyLimit = 32
    /// A match this long ends the search (zlib's `nice_length`): repetitive values (a state's runs
    /// of zeros) would otherwise compare every candidate of a long chain at full length.
    private static let niceLength = 128
    /// After a match this long, the next position's search is a quarter as deep (zlib's `good_length`).
    private static let goodLength = 8
    private static let minMatch = 3, maxMatch = 258

    /// `dictionary`'s chains; matches reach at most 2^`windowBits` bytes back.
    init(windowBits: Int, dictionary: [UInt8]) {
        self.dictionary = dictionary
        maxDistance = 1 << min(15, max(8, windowBits))
        var head = [Int32](repeating: -1, count: 1 << Self.dictionaryHashBits)
        var chain = [Int32](repeating: -1, count: dictionary.count)
        if dictionary.count >= Self.minMatch {
            for position in 0...(dictionary.count - Self.minMatch) {
                let hash = Self.hash(dictionary[position], dictionary[position + 1], dictionary[position + 2], bits: Self.dictionaryHashBits)
                chain[position] = head[hash]
                head[hash] = Int32(position)
            }
        }
        dictionaryHead = head
        dictionaryChain = chain
    }

    /// `header` followed by `input` deflated.
    func pack(_ input: [UInt8], header: [UInt8]) -> [UInt8] {
        var window = dictionary
        window.append(contentsOf: input)
        var bits = BitWriter(header: header, capacity: input.count / 2 + 16)
        bits.write(0b011, count: 3)  // BFINAL 1, BTYPE 01 (fixed codes)
        window.withUnsafeBufferPointer { window in
            dictionaryHead.withUnsafeBufferPointer { dictionaryHead in
                dictionaryChain.withUnsafeBufferPointer { dictionaryChain in
                    let matcher = Matcher(window: window, start: dictionary.count, dictionaryHead: dictionaryHead,
                                          dictionaryChain: dictionaryChain, maxDistance: maxDistance)
                    defer { matcher.release() }
                    matcher.encode(into: &bits)
                }
            }
        }
        bits.writeLiteral(256)  // end of block
        return bits.finish()
    }

    /// A multiplicative hash of 3 bytes to `bits` bits.
    @inline(__always)
    static func hash(_ a: UInt8, _ b: UInt8, _ c: UInt8, bits: Int) -> Int {
        Int(((UInt32(a) | UInt32(b) << 8 | UInt32(c) << 16) &* 0x9E37_79B1) >> UInt32(32 - bits))
    }

    /// LZ77 over `window[start...]` (the input) with lazy matching as zlib's `deflate_slow`: a match
    /// is emitted only when the next position does not start a longer one.
    private struct Matcher {
        let window: UnsafeBufferPointer<UInt8>
        let start: Int
        let dictionaryHead: UnsafeBufferPointer<Int32>
        let dictionaryChain: UnsafeBufferPointer<Int32>
        let maxDistance: Int
        let inputHashBits: Int
        /// The input's own chains, by input index (allocated per pack, freed by `release`).
        let inputHead: UnsafeMutableBufferPointer<Int32>
        let inputChain: UnsafeMutableBufferPointer<Int32>

        init(window: UnsafeBufferPointer<UInt8>, start: Int, dictionaryHead: UnsafeBufferPointer<Int32>,
             dictionaryChain: UnsafeBufferPointer<Int32>, maxDistance: Int) {
            self.window = window; self.start = start; self.dictionaryHead = dictionaryHead
            self.dictionaryChain = dictionaryChain; self.maxDistance = maxDistance
            let count = window.count - start
            var bits = 6
            while bits < FixedHuffmanDeflate.dictionaryHashBits && 1 << bits < 2 * count { bits += 1 }
            inputHashBits = bits
            inputHead = .allocate(capacity: 1 << bits)
            inputHead.initialize(repeating: -1)
            inputChain = .allocate(capacity: max(1, count))
            inputChain.initialize(repeating: -1)
        }

        /// Frees the input's chains (the matcher lives for one `pack`).
        func release() {
            inputHead.deallocate()
            inputChain.deallocate()
        }

        func encode(into bits: inout BitWriter) {
            let count = window.count - start
            var index = 0
            var previous = (length: 0, distance: 0)
            var pending = false  // a literal or match found at index - 1, not yet written
            while index < count {
                var current = (length: 0, distance: 0)
                if index + FixedHuffmanDeflate.minMatch <= count {
                    if previous.length < FixedHuffmanDeflate.lazyLimit {
                        current = longestMatch(at: index, shallow: previous.length >= FixedHuffmanDeflate.goodLength)
                    }
                    insert(index)
                }
                if pending && previous.length >= FixedHuffmanDeflate.minMatch && current.length <= previous.length {
                    bits.writeMatch(length: previous.length, distance: previous.distance)
                    let end = index - 1 + previous.length
                    // The positions inside a long match are not indexed (zlib's `max_insert_length`):
                    // a decision is mostly long stretches of the dictionary, and indexing each of
                    // their bytes was half of its pack's instructions for nothing smaller.
                    var next = previous.length > FixedHuffmanDeflate.lazyLimit ? end : index + 1
                    while next < end {
                        if next + FixedHuffmanDeflate.minMatch <= count { insert(next) }
                        next += 1
                    }
                    index = end
                    pending = false
                    previous = (0, 0)
                    continue
                }
                if pending { bits.writeLiteral(Int(window[start + index - 1])) }
                previous = current
                pending = true
                index += 1
            }
            // The last position can start no match (fewer than 3 bytes follow it).
            if pending { bits.writeLiteral(Int(window[start + count - 1])) }
        }

        /// Records input position `index` (3 bytes follow it) in the input's chains.
        @inline(__always)
        func insert(_ index: Int) {
            let p = start + index
            let hash = FixedHuffmanDeflate.hash(window[p], window[p + 1], window[p + 2], bits: inputHashBits)
            inputChain[index] = inputHead[hash]
            inputHead[hash] = Int32(index)
        }

        /// The longest earlier match for input position `index` (0 when none of 3 bytes or more),
        /// nearest first among equals: the input's own earlier bytes, then the dictionary's. The
        /// search stops at the first match of `niceLength`; `shallow` (the previous position matched
        /// well) compares fewer candidates.
        func longestMatch(at index: Int, shallow: Bool) -> (length: Int, distance: Int) {
            let p = start + index
            let limit = min(FixedHuffmanDeflate.maxMatch, window.count - p)
            var best = (length: FixedHuffmanDeflate.minMatch - 1, distance: 0)
            var budget = shallow ? FixedHuffmanDeflate.maxCandidates / 4 : FixedHuffmanDeflate.maxCandidates
            /// Follows one chain from `first` (its positions `offset` + each entry); true when the
            /// match found cannot grow (nice or as long as the input allows).
            func follow(_ first: Int32, _ chain: UnsafeBufferPointer<Int32>, offset: Int) -> Bool {
                var candidate = Int(first)
                while candidate >= 0 && budget > 0 {
                    let from = offset + candidate
                    if p - from > maxDistance { return false }  // chains run backwards: the rest is farther
                    let length = matchLength(from, p, limit, beating: best.length)
                    if length > best.length {
                        best = (length, p - from)
                        if length >= FixedHuffmanDeflate.niceLength || length == limit { return true }
                    }
                    candidate = Int(chain[candidate])
                    budget -= 1
                }
                return false
            }
            let a = window[p], b = window[p + 1], c = window[p + 2]
            if !follow(inputHead[FixedHuffmanDeflate.hash(a, b, c, bits: inputHashBits)], UnsafeBufferPointer(inputChain), offset: start) {
                _ = follow(dictionaryHead[FixedHuffmanDeflate.hash(a, b, c, bits: FixedHuffmanDeflate.dictionaryHashBits)],
                           dictionaryChain, offset: 0)
            }
            return best.length >= FixedHuffmanDeflate.minMatch ? best : (0, 0)
        }

        /// How many bytes from `from` equal those from `p` (at most `limit`); 0 early when it cannot
        /// beat `beating` (the byte that would make it longer differs).
        @inline(__always)
        func matchLength(_ from: Int, _ p: Int, _ limit: Int, beating: Int) -> Int {
            if beating < limit && window[from + beating] != window[p + beating] { return 0 }
            let bytes = UnsafeRawPointer(window.baseAddress!)
            var length = 0
            while length + 8 <= limit {
                let difference = bytes.loadUnaligned(fromByteOffset: from + length, as: UInt64.self)
                    ^ bytes.loadUnaligned(fromByteOffset: p + length, as: UInt64.self)
                if difference != 0 { return length + UInt64(littleEndian: difference).trailingZeroBitCount / 8 }
                length += 8
            }
            while length < limit && window[from + length] == window[p + length] { length += 1 }
            return length
        }
    }

    /// Bits least significant first (RFC 1951 §3.1.1), the fixed codes (§3.2.6) written reversed.
    struct BitWriter {
        private var bytes: [UInt8]
        private var buffer: UInt64 = 0
        private var count = 0

        init(header: [UInt8], capacity: Int) {
            bytes = header
            bytes.reserveCapacity(header.count + capacity)
        }

        @inline(__always)
        mutating func write(_ value: UInt32, count bitCount: Int) {
            buffer |= UInt64(value) << UInt64(count)
            count += bitCount
            while count >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                count -= 8
            }
        }

        /// A literal byte (0–255), the end of block (256) or a length symbol (257–285).
        @inline(__always)
        mutating func writeLiteral(_ symbol: Int) {
            let code = FixedHuffmanDeflate.literalCodes[symbol]
            write(UInt32(code.bits), count: Int(code.count))
        }

        /// A match: its length (3–258) and distance (1–32 768) with their extra bits.
        mutating func writeMatch(length: Int, distance: Int) {
            if length == FixedHuffmanDeflate.maxMatch {
                writeLiteral(285)
            } else if length - FixedHuffmanDeflate.minMatch < 8 {
                writeLiteral(257 + length - FixedHuffmanDeflate.minMatch)
            } else {
                let l = length - FixedHuffmanDeflate.minMatch, n = Int.bitWidth - 1 - l.leadingZeroBitCount
                writeLiteral(257 + 4 * (n - 1) + (l >> (n - 2)) & 3)
                write(UInt32(l & (1 << (n - 2) - 1)), count: n - 2)
            }
            let d = distance - 1
            if d < 4 {
                write(UInt32(FixedHuffmanDeflate.distanceCodes[d]), count: 5)
            } else {
                let n = Int.bitWidth - 1 - d.leadingZeroBitCount
                write(UInt32(FixedHuffmanDeflate.distanceCodes[2 * n + (d >> (n - 1)) & 1]), count: 5)
                write(UInt32(d & (1 << (n - 1) - 1)), count: n - 1)
            }
        }

        /// The bytes, the last one padded with zero bits.
        mutating func finish() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(truncatingIfNeeded: buffer)) }
            buffer = 0
            count = 0
            return bytes
        }
    }

    /// The fixed literal/length codes 0–287, bit-reversed for `BitWriter`.
    static let literalCodes: [(bits: UInt16, count: UInt8)] = (0...287).map { symbol in
        let (code, count): (Int, Int) = switch symbol {
        case ...143: (0x30 + symbol, 8)
        case ...255: (0x190 + symbol - 144, 9)
        case ...279: (symbol - 256, 7)
        default: (0xC0 + symbol - 280, 8)
        }
        return (UInt16(reversed(code, count)), UInt8(count))
    }

    /// The fixed distance codes 0–29 (5 bits each), bit-reversed.
    static let distanceCodes: [UInt8] = (0..<30).map { UInt8(reversed($0, 5)) }

    private static func reversed(_ code: Int, _ count: Int) -> Int {
        var result = 0
        for bit in 0..<count where code & (1 << bit) != 0 { result |= 1 << (count - 1 - bit) }
        return result
    }
}
