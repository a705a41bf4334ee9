import Essentials
import XCTest
@testable import LeadStore
import Postgres

/// `FixedHuffmanDeflate` (what `SmallDeflate` packs with): zlib's inflate reads back the exact
/// bytes of any input, with or without a dictionary, through every length and distance code; and
/// what zlib packed before it (older rows) still unpacks.
final class FixedHuffmanDeflateTests: XCTestCase {
    func assertRoundTrip(_ input: [UInt8], dictionary: [UInt8], windowBits: Int32 = 15,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let packed = SmallDeflate(windowBits: windowBits, dictionary: dictionary).pack(input, header: [0xAB, 0xCD])
        XCTAssertEqual(Array(packed.prefix(2)), [0xAB, 0xCD], "the header comes first", file: file, line: line)
        XCTAssertEqual(try SmallDeflate.unpack(packed.dropFirst(2), dictionary: dictionary), input, file: file, line: line)
    }

    func testEveryMatchLengthAndDistanceCodeRoundTrips() throws {
        var generator = SplitMix64(seed: 1951)
        let noise = (0..<40_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        // A run of noise repeated at distances across every distance code (1 … 32 768) and with
        // lengths across every length code (3 … 258): each repeat is a match of that length.
        for distance in [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                         1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577, 32768] {
            for length in [3, 4, 10, 11, 12, 13, 18, 19, 34, 35, 66, 67, 130, 131, 226, 227, 257, 258, 300] {
                var input = Array(noise[0..<distance])
                input += noise[0..<min(length, distance)]
                if length > distance { for i in 0..<(length - distance) { input.append(input[distance + i]) } }
                input += noise[30_000..<30_020]  // unmatched bytes after the match
                try assertRoundTrip(input, dictionary: [])
            }
        }
    }

    func testRandomInputsAndDictionariesRoundTrip() throws {
        var generator = SplitMix64(seed: 23)
        func bytes(_ count: Int, alphabet: UInt64) -> [UInt8] {
            (0..<count).map { _ in UInt8(0x20 + generator.next() % alphabet) }
        }
        for round in 0..<300 {
            // Small alphabets make many and overlapping matches; large ones few.
            let alphabet = [1, 2, 4, 16, 90][round % 5]
            let dictionary = bytes(Int(generator.next() % 3_000), alphabet: UInt64(alphabet))
            var input = bytes(Int(generator.next() % 2_500), alphabet: UInt64(alphabet))
            if !dictionary.isEmpty, round % 3 == 0 {  // whole stretches of the dictionary, as documents have
                let from = Int(generator.next() % UInt64(dictionary.count))
                input.insert(contentsOf: dictionary[from...].prefix(400), at: input.count / 2)
            }
            try assertRoundTrip(input, dictionary: dictionary, windowBits: [9, 10, 11, 13, 15][round % 5])
        }
        try assertRoundTrip([], dictionary: [])
        try assertRoundTrip([7], dictionary: Array("abc".utf8))
        try assertRoundTrip(Array("ab".utf8), dictionary: [])
        try assertRoundTrip([UInt8](repeating: 0, count: 100_000), dictionary: [])
    }

    func testMatchesReachNoFurtherThanTheWindow() throws {
        // The dictionary's only copy of the input lies 2^9 + 1 bytes back and beyond: a reader with
        // a 2^9 window must still unpack it, so the packer may not point there.
        var generator = SplitMix64(seed: 9)
        let text = (0..<200).map { _ in UInt8(0x41 + generator.next() % 26) }
        let dictionary = text + [UInt8](repeating: 0x20, count: 600)
        let packed = SmallDeflate(windowBits: 9, dictionary: dictionary).pack(text, header: [])
        XCTAssertGreaterThan(packed.count, text.count / 2, "the text is packed as literals, not as a match 800 bytes back")
        XCTAssertEqual(try SmallDeflate.unpack(packed[...], dictionary: dictionary), text)
    }

    func testADocumentZlibPackedStillUnpacks() throws {
        // Packed by zlib (level 6, window 2^13, memory level 4, dictionary 1), as every decision and
        // reason was before 2026-12-08: rows written then must read the same.
        let document = #"{"segments":{"current":["decision.high-intent.cart"],"entered":[],"exited":["awareness.browsing.tents"]},"stage":"decision"}"#
        let zlibPacked = [PackedJSON.current] + Hex.decode("ab2629ab031b8f254a385d8a701164a40f98d3f54ac046c7d662c9d6b500")!
        XCTAssertEqual(try PackedJSON.unpack(zlibPacked).bytes, Array(document.utf8))
        // Packed now: as small within a few bytes (the fixed codes), and unpacks the same.
        let packed = PackedJSON.pack(PostgresJSON(rawBytes: Array(document.utf8)))
        XCTAssertLessThanOrEqual(packed.count, zlibPacked.count + 8, "\(packed.count) against zlib's \(zlibPacked.count)")
        XCTAssertEqual(try PackedJSON.unpack(packed).bytes, Array(document.utf8))
    }
}
