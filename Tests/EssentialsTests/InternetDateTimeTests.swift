import Essentials
import Foundation
import XCTest

/// The hand-written RFC 3339 reader agrees with Foundation's `ISO8601DateFormatter` wherever
/// both read a text, reads the shapes SDKs send that the formatter does not, and refuses the rest.
final class InternetDateTimeTests: XCTestCase {
    func ms(_ text: String) -> Int64? { InternetDateTime.parse(text)?.milliseconds }

    func testShapesTheSDKsSend() {
        let noon: Int64 = 1_795_003_200_000  // 2026-11-18T12:00:00Z
        XCTAssertEqual(ms("2026-11-18T12:00:00Z"), noon)
        XCTAssertEqual(ms("2026-11-18T12:00:00.123Z"), noon + 123)                  // JS toISOString, Swift, Kotlin, Java
        XCTAssertEqual(ms("2026-11-18T12:00:00.123456+00:00"), noon + 123)          // Python isoformat()
        XCTAssertEqual(ms("2026-11-18T13:00:00.123456789+01:00"), noon + 123)       // Go RFC3339Nano with an offset
        XCTAssertEqual(ms("2026-11-18T07:30:00.5-04:30"), noon + 500)
        XCTAssertEqual(ms("2026-11-18t12:00:00z"), noon)                            // lower-case t and z
        XCTAssertEqual(ms("2026-11-18 12:00:00Z"), noon)                            // RFC 3339's space
        XCTAssertEqual(ms("2026-11-18T12:00:00,25Z"), noon + 250)                   // ISO 8601's comma
        XCTAssertEqual(ms("2026-11-18T13:00:00+0100"), noon)                        // offset without colon
        XCTAssertEqual(ms("2026-11-18T13:00:00+01"), noon)                          // hours only
        XCTAssertEqual(ms("2015-2-2T00:00:00Z"), ms("2015-02-02T00:00:00Z"))        // Segment's doc example shape
        XCTAssertEqual(ms("2026-11-18T12:00:00." + String(repeating: "9", count: 40) + "Z"), noon + 999)  // digits past 9 ignored
        XCTAssertEqual(InternetDateTime.parse("2026-11-18T12:00:00.000000001Z")?.nanoseconds, 1)
        XCTAssertEqual(ms("2016-12-31T23:59:60Z"), ms("2016-12-31T23:59:59.999Z"))   // a leap second
        XCTAssertEqual(ms("0000-01-01T00:00:00Z"), -62_167_219_200_000)
        XCTAssertEqual(ms("2024-02-29T00:00:00Z"), 1_709_164_800_000)
    }

    func testRefusesWhatIsNoDateTime() {
        for text in ["", "2026-11-18", "2026-11-18T12:00:00", "2026-11-18T12:00Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z",
                     "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-11-18T24:00:00Z", "2026-11-18T12:60:00Z", "2026-11-18T12:00:61Z",
                     "2026-11-18T12:00:00.Z", "2026-11-18T12:00:00+2400", "2026-11-18T12:00:00+01:60", "2026-11-18T12:00:00ZZ",
                     "2026-11-18T12:00:00Z ", " 2026-11-18T12:00:00Z", "20261118T120000Z", "26-11-18T12:00:00Z", "2026-011-18T12:00:00Z",
                     "2026-11-18X12:00:00Z", "2026-11-18T12:00:00+", "2026-11-18T12:00:00+1", "yesterday", "2026-1a-18T12:00:00Z"] {
            XCTAssertNil(InternetDateTime.parse(text), text)
        }
    }

    /// Random instants over years 1601–9999 (Foundation is Julian before 1582) in the shapes Foundation also writes: the same millisecond.
    func testAgreesWithISO8601DateFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let millis = Int64.random(in: -11_644_473_600_000...253_402_300_799_999, using: &generator)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            for zone in [0, 3600, -16_200, 50_400] {
                formatter.timeZone = TimeZone(secondsFromGMT: zone)
                let text = formatter.string(from: date)
                guard let theirs = formatter.date(from: text) else { continue }
                let expected = Int64((theirs.timeIntervalSince1970 * 1000).rounded())
                XCTAssertEqual(InternetDateTime.parse(text)?.milliseconds, expected, text)
            }
        }
    }
}
