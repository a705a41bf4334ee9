import Foundation
import Segmentation
import XCTest
@testable import LeadRouter

/// The formatter-free reader of stored times agrees with `Timestamp`'s own text, everywhere.
final class TimestampTextTests: XCTestCase {
    func testRoundTripsTimestampTextAcrossEras() {
        var generator = SystemRandomNumberGenerator()
        let edges: [Int64] = [0, -1, 1, 951_782_400_000, 1_795_000_000_123, 4_102_444_799_999, -2_208_988_800_000]
        let randoms = (0..<2000).map { _ in Int64.random(in: -2_208_988_800_000...4_102_444_799_999, using: &generator) }
        for ms in edges + randoms {
            let t = Timestamp(milliseconds: ms)
            XCTAssertEqual(TimestampText.parse(t.description), t, t.description)
        }
    }

    func testOtherShapesFallBackAndGarbageIsNil() {
        XCTAssertEqual(TimestampText.parse("2026-11-02T09:00:00Z"), Timestamp(milliseconds: 1_793_610_000_000))
        XCTAssertNil(TimestampText.parse("2026-13-02T09:00:00.000Z"))
        XCTAssertNil(TimestampText.parse("yesterday"))
    }
}
