import Essentials
import Foundation
import XCTest

final class RandomUUIDTests: XCTestCase {
    /// Every id is an RFC 9562 version 4 UUID (the version nibble 4, the variant bits 10), as
    /// Foundation's `UUID()` made them, so stored ids and their text look as they did.
    func testVersionAndVariantBits() {
        for _ in 0..<2_000 {
            let id = UUID.random()
            let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
            XCTAssertEqual(bytes[6] >> 4, 4, id.uuidString)
            XCTAssertEqual(bytes[8] >> 6, 0b10, id.uuidString)
            let text = id.uuidString.lowercased()
            XCTAssertEqual(Array(text)[14], "4")
            XCTAssertTrue("89ab".contains(Array(text)[19]), text)
            XCTAssertEqual(UUID(uuidString: text), id)
        }
    }

    /// The 122 random bits are random: no repeats among many ids, and every bit that is not a
    /// version or variant bit takes both values.
    func testIdsDiffer() {
        let ids = (0..<20_000).map { _ in UUID.random() }
        XCTAssertEqual(Set(ids).count, ids.count)
        var ones = [Int](repeating: 0, count: 128)
        for id in ids {
            withUnsafeBytes(of: id.uuid) { raw in
                for bit in 0..<128 where raw[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 { ones[bit] += 1 }
            }
        }
        let fixed: Set<Int> = [48, 49, 50, 51, 64, 65]  // version 0100, variant 10
        for bit in 0..<128 where !fixed.contains(bit) {
            XCTAssertTrue((8_000...12_000).contains(ones[bit]), "bit \(bit) was set \(ones[bit]) times of \(ids.count)")
        }
    }
}
