import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// The formatter-free reader of stored times agrees with `Timestamp`'s own text, everywhere.
final class TimestampParseTests: XCTestCase {
    func testRoundTripsTimestampTextAcrossEras() {
        var generator = SystemRandomNumberGenerator()
        let edges: [Int64] = [0, -1, 1, 951_782_400_000, 1_795_000_000_123, 4_102_444_799_999, -2_208_988_800_000]
        let randoms = (0..<2000).map { _ in Int64.random(in: -2_208_988_800_000...4_102_444_799_999, using: &generator) }
        for ms in edges + randoms {
            let t = Timestamp(milliseconds: ms)
            XCTAssertNotNil(Timestamp.parseCanonical(Array(t.description.utf8)), "fast path for \(t.description)")
            XCTAssertEqual(Timestamp.parse(t.description), t, t.description)
        }
    }

    func testOtherShapesFallBackAndGarbageIsNil() {
        XCTAssertEqual(Timestamp.parse("2026-11-02T09:00:00Z"), Timestamp(milliseconds: 1_793_610_000_000))
        XCTAssertEqual(Timestamp.parse("2026-11-02T10:00:00.000+01:00"), Timestamp(milliseconds: 1_793_610_000_000))
        XCTAssertNil(Timestamp.parse("2026-13-02T09:00:00.000Z"))
        XCTAssertNil(Timestamp.parse("yesterday"))
    }
}
