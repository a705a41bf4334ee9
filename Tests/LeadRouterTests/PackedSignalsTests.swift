import Foundation
import Segmentation
import XCTest
@testable import LeadStore

/// `PackedSignals`: a lead's signal state packs to its exact encoding, is smaller when the
/// encoding repeats itself (as the engine's does), stays as it is when packing would not pay,
/// and rows written before packing still read.
final class PackedSignalsTests: XCTestCase {
    /// An engine encoding (format 1) of `signals` series: random 8-byte keys, the same coverage
    /// (keep 4, 30 days, no flags) and `times` occurrence times each, as the sample ruleset's are.
    func encoding(signals: Int, times: Int, seed: UInt64) throws -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var out: [UInt8] = [1, UInt8(signals)]
        let keys = (0..<signals).map { _ in generator.next() }.sorted()
        for key in keys {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: key >> (8 * UInt64(i)))) }
            out += [4, 0x80, 0x90, 0xfb, 0xd3, 0x09, 0, UInt8(times)]
            for i in 0..<times { out += i == 0 ? [0xc2, 0xc4, 0xe6, 0xda, 0xa3, 0x68] : [0x90, 0x4e] }
        }
        // What the engine wrote decodes and re-encodes to itself: the bytes are a real state.
        XCTAssertEqual(try SignalState(decoding: out).encode(), out)
        return out
    }

    func testAStatePacksSmallerAndUnpacksToItsEncoding() throws {
        for (signals, times) in [(20, 0), (20, 1), (5, 3), (60, 2)] {
            let encoded = try encoding(signals: signals, times: times, seed: UInt64(signals * 100 + times))
            let packed = PackedSignals.pack(encoded)
            XCTAssertEqual(packed.first, PackedSignals.marker)
            XCTAssertLessThan(packed.count * 10, encoded.count * 8, "\(signals) signals: \(packed.count) of \(encoded.count) bytes")
            XCTAssertEqual(try PackedSignals.unpack(packed), encoded)
        }
    }

    func testAStatePackingWouldNotShortenIsStoredAsItIs() throws {
        let empty = SignalState().encode()
        XCTAssertEqual(PackedSignals.pack(empty), empty)
        XCTAssertEqual(try PackedSignals.unpack(empty), empty)
        // Rows written before packing (format 1 or 2, first byte the version) read as they are.
        let old = try encoding(signals: 3, times: 1, seed: 7)
        XCTAssertEqual(try PackedSignals.unpack(old), old)
    }

    func testDamagedPackedBytesAreAnError() throws {
        let packed = PackedSignals.pack(try encoding(signals: 20, times: 1, seed: 9))
        XCTAssertThrowsError(try PackedSignals.unpack(Array(packed.dropLast(3))), "truncated")
        XCTAssertThrowsError(try PackedSignals.unpack([PackedSignals.marker, 0xff, 0xff, 0xff]), "not deflate")
    }
}
